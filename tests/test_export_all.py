"""`export_all` → `import_all` moves a whole instance into an empty database (issue #7,
item 7): the demo, plus reports with their PDFs, deliveries, subscriptions, an attachment,
API tokens and the history of it all. The import runs in a subprocess against a second
database (a second PostgreSQL database on the same server, or a second SQLite file) that
`migrate` has just created; then every table of both databases is read with plain SQL and
compared row for row. Only sign-in sessions and the migration ledger are left out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.db.utils import load_backend

from strategy.models import Mission, Node, Strategy
from strategy.services import api_token_create
from tracking.models import (
    Cadence,
    Delivery,
    NoteAttachment,
    ProgressNote,
    Report,
    Subscription,
)
from tracking.reports import services as reports

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
NOT_CONTENT = {"django_migrations", "django_session"}


def _url(settings_dict: dict, name: str) -> str:
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    auth = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        auth += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = quote(settings_dict["HOST"] or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{auth + '@' if auth else ''}{host}{port}/{quote(name, safe='')}"


@pytest.fixture
def second_database(tmp_path):
    """(DATABASE_URL, connection) of a new, empty database beside the test database."""
    source = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(tmp_path / "restored.sqlite3")
    elif connection.vendor == "postgresql":
        name = f"{source['NAME']}_restored"[:63]
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
    else:
        pytest.skip(f"no second-database set-up for {connection.vendor}")
    target_settings = {**source, "NAME": name}
    target = load_backend(source["ENGINE"]).DatabaseWrapper(target_settings, "restored")
    try:
        yield _url(source, name), target
    finally:
        target.close()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [name],
                )
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 — this interpreter, our arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def table_rows(conn) -> dict[str, list[tuple]]:
    """Every row of every content table, in a stable order, read with plain SQL."""
    found = {}
    with conn.cursor() as cursor:
        for table in sorted(set(conn.introspection.table_names(cursor)) - NOT_CONTENT):
            cursor.execute(f"SELECT * FROM {conn.ops.quote_name(table)}")  # noqa: S608
            found[table] = sorted((tuple(row) for row in cursor.fetchall()), key=repr)
    return found


def _fill(settings, tmp_path) -> dict[str, int]:
    """The demo plus the things the demo does not make."""
    call_command("load_demo", "--quiet")
    strategy = Strategy.objects.filter(mission__slug="china").first() or Strategy.objects.first()
    manager = strategy.mission.memberships.filter(role="manager").first().user
    viewer = strategy.mission.memberships.filter(role="viewer").first().user
    api_token_create(user=manager, name="backup test")
    subscription = Subscription.objects.filter(strategy=strategy, is_active=True).first()
    outside = reports.subscription_create(
        strategy=strategy, cadence=Cadence.QUARTERLY, by=manager, email="reader@example.org"
    )
    reports.unsubscribe(subscription=outside)  # history without a user
    report = reports.report_send_now(subscription=subscription, by=manager).report
    reports.report_build(report_id=report.pk)
    call_command("generate_report", str(strategy.pk), "--email", viewer.email or "v@example.org")
    note = ProgressNote.objects.filter(strategy=strategy).first()
    attachment = NoteAttachment(note=note, name="minutes.txt", uploaded_by=manager)
    attachment.file.save("minutes.txt", ContentFile(b"Minutes of the trade meeting.\n"), save=False)
    attachment.size = attachment.file.size
    attachment.save()
    return {
        "reports": Report.objects.exclude(pdf=None).count(),
        "deliveries": Delivery.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "attachment": attachment.pk,
    }


def test_export_all_then_import_all_into_an_empty_database_gives_identical_tables(
    settings, tmp_path, second_database
):
    settings.MEDIA_ROOT = tmp_path / "media-source"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    made = _fill(settings, tmp_path)
    assert made["reports"] >= 1 and made["deliveries"] >= 1 and made["subscriptions"] >= 2

    export = tmp_path / "instance.json"
    call_command("export_all", "--output", str(export))
    assert oct(export.stat().st_mode & 0o777) == "0o600"  # it holds password hashes
    document = json.loads(export.read_text())
    assert document["counts"]["strategy.node"] == Node.objects.count() > 10
    assert [f["name"] for f in document["files"]] == [
        NoteAttachment.objects.get(pk=made["attachment"]).file.name
    ]

    url, target = second_database
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "true",
        "SECRET_KEY": "tests-only-import-key",
        "MEDIA_ROOT": str(tmp_path / "media-target"),
        "VAR_DIR": str(tmp_path / "var"),
    }
    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    loaded = manage("import_all", str(export), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "Imported" in loaded.stdout

    source_rows, target_rows = table_rows(connection), table_rows(target)
    assert set(source_rows) == set(target_rows)
    differing = [t for t in source_rows if source_rows[t] != target_rows[t]]
    assert not differing, {t: (len(source_rows[t]), len(target_rows[t])) for t in differing}
    filled = [t for t, rows in source_rows.items() if rows]
    assert len(filled) >= 20, filled  # users, tree, history tables, reports …
    assert "tracking_historicalprogressnote" in filled and "tracking_report" in filled
    restored = tmp_path / "media-target" / document["files"][0]["name"]
    assert restored.read_bytes() == b"Minutes of the trade meeting.\n"

    # The restored instance goes on where the old one stopped: new ids follow the old ones.
    created = manage(
        "shell",
        "-c",
        "from strategy.models import Mission; "
        "print(Mission.objects.create(name='After restore', slug='after-restore').pk)",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert int(created.stdout.split()[-1]) > max(Mission.objects.values_list("pk", flat=True))

    again = manage("import_all", str(export), env=env)
    assert again.returncode != 0
    assert "not empty" in again.stderr, again.stderr


def test_import_all_refuses_a_file_that_is_not_an_export(tmp_path, db):
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(Exception, match="not a Strategy Tracker export"):
        call_command("import_all", str(bogus))


def test_import_all_refuses_an_export_of_another_schema(tmp_path, db):
    export = tmp_path / "instance.json"
    call_command("export_all", "--output", str(export))
    document = json.loads(export.read_text())
    document["migrations"] = [*document["migrations"], "tracking.9999_future"]
    export.write_text(json.dumps(document))
    with pytest.raises(Exception, match="schema differs"):
        call_command("import_all", str(export))


def test_export_all_to_stdout_is_the_same_document(capsys, db, personas):
    call_command("export_all")
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "strategy-tracker-export"
    assert document["counts"]["strategy.mission"] == 2
    assert dt.datetime.fromisoformat(document["exported_at"])


def test_an_embedded_sqlite_instance_moves_to_postgresql(tmp_path, second_database):
    """The documented move: export_all on SQLite, migrate + import_all on PostgreSQL;
    exporting the PostgreSQL instance again gives the same rows, object for object."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL as the target (run with DATABASE_URL=postgres://…)")
    url, _ = second_database
    base = {
        **os.environ,
        "DEBUG": "true",
        "SECRET_KEY": "tests-only-import-key",
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    sqlite = {**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}"}
    postgres = {**base, "DATABASE_URL": url}
    first, second = tmp_path / "from-sqlite.json", tmp_path / "from-postgres.json"
    for args, env in [
        (("migrate", "--noinput"), sqlite),
        (("load_demo", "--quiet"), sqlite),
        (("export_all", "--output", str(first)), sqlite),
        (("migrate", "--noinput"), postgres),
        (("import_all", str(first)), postgres),
        (("export_all", "--output", str(second)), postgres),
    ]:
        result = manage(*args, env=env)
        assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
    before, after = json.loads(first.read_text()), json.loads(second.read_text())
    assert before["source"] == "sqlite" and after["source"] == "postgresql"
    assert before["counts"] == after["counts"]
    assert sum(before["counts"].values()) > 1000
    assert before["objects"] == after["objects"]
