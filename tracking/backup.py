"""A whole instance in one file, and back: `manage.py export_all` / `import_all`.

The file is JSON (docs/decisions/0022):

    {"format": "strategy-tracker-export", "version": 1, "exported_at": …, "source": "postgresql",
     "migrations": ["strategy.0001_initial", …],            # the schema it was taken at
     "counts": {"strategy.node": 42, …},                    # rows per table, for checking
     "objects": [{"model": "strategy.node", "pk": 7, "fields": {…}}, …],
     "files": [{"name": "attachments/…", "sha256": …, "content": "<base64>"}]}

`objects` are Django's serializer rows with their primary keys, in an order a database
accepts one row at a time: tables after the tables they point to, and within a table
that points at itself (the goal → objective tree) parents before children. Every table
is in it — users with their password hashes, API token digests, the history tables,
reports with their PDFs — except sessions (everyone signs in again) and the migration
ledger (the target has its own, and must match). The file is therefore a secret.

Import writes rows "raw" (no signals, so no new history rows and no auto_now stamps) and
sets each table's id sequence past the largest id, so the restored instance continues
where the exported one stopped.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time
from typing import IO, Any

from django.apps import apps
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "strategy-tracker-export"
VERSION = 1
# Not part of an instance: sign-in sessions, and the target's own migration ledger.
SKIPPED = {"sessions.session"}
# Rows `migrate` itself creates; import replaces them with the exported ones (same ids).
MIGRATE_CREATED = ("auth.permission", "contenttypes.contenttype")


class _Encoder(DjangoJSONEncoder):
    """Django's encoder keeps milliseconds only; a backup keeps every microsecond."""

    def default(self, o: Any) -> Any:
        if isinstance(o, (datetime, time)):
            return o.isoformat()
        return super().default(o)


class BackupError(Exception):
    """The file or the target database is not fit for an import (message says why)."""


def label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def exported_models() -> list[type[models.Model]]:
    """Every table with content, ordered so a table comes after those it points to."""
    candidates = [
        m
        for m in apps.get_models()
        if m._meta.managed and not m._meta.proxy and label(m) not in SKIPPED
    ]
    ordered: list[type[models.Model]] = []
    placed: set[type[models.Model]] = set()

    def place(model: type[models.Model], path: tuple = ()) -> None:
        if model in placed or model in path:
            return  # done, or a cycle between tables (deferred constraints cover it)
        for f in model._meta.get_fields():
            target = getattr(f, "related_model", None)
            if (
                f.concrete
                and (f.many_to_one or f.one_to_one or f.many_to_many)
                and target is not None
                and target is not model
                and target in candidates
            ):
                place(target, (*path, model))
        placed.add(model)
        ordered.append(model)

    for model in sorted(candidates, key=label):
        place(model)
    return ordered


def _applied_migrations() -> list[str]:
    return sorted(
        f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()
    )


def _self_references(model: type[models.Model]) -> list[str]:
    return [
        f.attname for f in model._meta.concrete_fields if f.is_relation and f.related_model is model
    ]


def _rows(model: type[models.Model]) -> Iterator[models.Model]:
    """A table's rows by primary key; a self-referencing table parents first."""
    rows = model._base_manager.order_by("pk")
    parent_fields = _self_references(model)
    if not parent_fields:
        yield from rows.iterator(chunk_size=500)
        return
    pending = list(rows)
    done: set[Any] = set()
    while pending:
        ready = [
            r
            for r in pending
            if all(getattr(r, f) is None or getattr(r, f) in done for f in parent_fields)
        ]
        if not ready:  # a loop through the table itself: keep id order for the rest
            ready = pending
        for row in ready:
            done.add(row.pk)
            yield row
        ready_ids = {id(r) for r in ready}
        pending = [r for r in pending if id(r) not in ready_ids]


def _file_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def export_all(out: IO[str]) -> dict[str, int]:
    """Write the whole instance to `out`; returns the row count per table."""
    counts: dict[str, int] = {}
    files: list[str] = []
    order = exported_models()
    for model in order:
        counts[label(model)] = model._base_manager.count()
    out.write("{\n")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "source": connection.vendor,
        "migrations": _applied_migrations(),
        "counts": counts,
    }
    for key, value in header.items():
        out.write(f"{json.dumps(key)}: {json.dumps(value)},\n")
    out.write('"objects": [\n')
    first = True
    for model in order:
        file_fields = _file_fields(model)
        for row in _rows(model):
            [data] = serializers.serialize("python", [row])
            out.write(("" if first else ",\n") + json.dumps(data, cls=_Encoder))
            first = False
            files.extend(getattr(row, name).name for name in file_fields if getattr(row, name).name)
    out.write('\n],\n"files": [\n')
    for n, name in enumerate(sorted(set(files))):
        try:
            with default_storage.open(name, "rb") as handle:
                content = handle.read()
        except FileNotFoundError:
            continue  # a row whose file is gone: nothing to carry
        entry = {
            "name": name,
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": base64.b64encode(content).decode("ascii"),
        }
        out.write(("" if n == 0 else ",\n") + json.dumps(entry))
    out.write("\n]\n}\n")
    return counts


def read_export(handle: IO[str]) -> dict[str, Any]:
    try:
        data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise BackupError(f"not JSON: {exc.msg} (line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise BackupError("not UTF-8 text") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError("not a Strategy Tracker export (made by `manage.py export_all`)")
    if data.get("version") != VERSION:
        raise BackupError(f"export format version {data.get('version')!r}; this is {VERSION}")
    return data


def tables_with_rows() -> dict[str, int]:
    """Tables of the target that hold content (what `migrate` creates does not count)."""
    found = {}
    for model in exported_models():
        if label(model) in MIGRATE_CREATED:
            continue
        count = model._base_manager.count()
        if count:
            found[label(model)] = count
    return found


def import_all(data: dict[str, Any]) -> dict[str, int]:
    """Load an export into this (migrated, empty) database. All or nothing."""
    mine = set(_applied_migrations())
    theirs = set(data.get("migrations") or [])
    if mine != theirs:
        missing, extra = sorted(theirs - mine), sorted(mine - theirs)
        hint = []
        if missing:
            hint.append(f"not applied here: {', '.join(missing[:5])}")
        if extra:
            hint.append(f"newer than the export: {', '.join(extra[:5])}")
        raise BackupError(
            "the database schema differs from the export's ("
            + "; ".join(hint)
            + "). Run `manage.py migrate` with the code version that made the export."
        )
    occupied = tables_with_rows()
    if occupied:
        shown = ", ".join(f"{name} ({n})" for name, n in sorted(occupied.items())[:8])
        raise BackupError(
            "the database is not empty; import_all only loads into an empty database "
            f"(after `manage.py migrate`). Rows found in: {shown}."
        )
    counts: dict[str, int] = {}
    touched: list[type[models.Model]] = []
    with transaction.atomic():
        for name in MIGRATE_CREATED:
            apps.get_model(name)._base_manager.all().delete()
        with connection.constraint_checks_disabled():
            for obj in _deserialize(data.get("objects") or []):
                model = type(obj.object)
                if model not in touched:
                    touched.append(model)
                obj.save(force_insert=True)
                counts[label(model)] = counts.get(label(model), 0) + 1
        connection.check_constraints(table_names=[m._meta.db_table for m in touched])
        _reset_sequences(touched)
        expected = {k: v for k, v in (data.get("counts") or {}).items() if v}
        if counts != expected:
            raise BackupError(f"row counts differ: the file lists {expected}, it holds {counts}")
        _restore_files(data.get("files") or [])
    return counts


def _deserialize(objects: Iterable[dict[str, Any]]):
    try:
        yield from serializers.deserialize("python", objects, ignorenonexistent=False)
    except serializers.base.DeserializationError as exc:
        raise BackupError(f"a row cannot be read: {exc}") from exc


def _reset_sequences(models_: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), models_)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _restore_files(files: list[dict[str, Any]]) -> None:
    for entry in files:
        content = base64.b64decode(entry["content"])
        if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            raise BackupError(f"file {entry['name']} is damaged (checksum differs)")
        if default_storage.exists(entry["name"]):
            with default_storage.open(entry["name"], "rb") as handle:
                if handle.read() == content:
                    continue
            raise BackupError(f"file {entry['name']} exists with different content; not replaced")
        saved = default_storage.save(entry["name"], ContentFile(content))
        if saved != entry["name"]:
            raise BackupError(f"file {entry['name']} was stored as {saved}")
