"""Conditional writes: an update happens only if the row is still at the version the
caller read (the API's `If-Match` ETag).

`locked()` re-reads the row under `SELECT … FOR UPDATE` inside the caller's transaction,
so the compare and the write are one step: of twenty concurrent writers holding the same
version, exactly one wins. (SQLite has no row locks, but the settings open every
transaction with BEGIN IMMEDIATE, which serialises writers the same way.)
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model

M = TypeVar("M", bound=Model)


class StaleVersion(Exception):
    """The object changed since the caller read it."""

    def __init__(self, current: int, expected: int) -> None:
        super().__init__(
            f"It changed since you read it (now version {current}, you had {expected})."
        )
        self.current = current
        self.expected = expected


def locked(instance: M, expected_version: int | None = None) -> M:
    """The row behind `instance`, freshly read and locked; StaleVersion if it moved on."""
    fresh = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise StaleVersion(fresh.version, expected_version)
    return fresh


def adopt(target: Model, source: Model) -> None:
    """Copy a saved row's field values onto the caller's instance, so it sees the write."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def apply_update(
    instance: M,
    *,
    fields: dict,
    by,
    expected_version: int | None = None,
    clean_exclude: list[str] | None = None,
) -> bool:
    """Set `fields` on the locked row if they differ, bump its version, validate, save with
    `by` as history author, and copy the result onto `instance`. Returns whether anything
    changed; unchanged values write nothing (no version bump, no history row)."""
    fresh = locked(instance, expected_version)
    changed = {}
    for name, value in fields.items():
        field = fresh._meta.get_field(name)
        if field.is_relation:
            current, wanted = getattr(fresh, field.attname), getattr(value, "pk", value)
        else:
            current, wanted = getattr(fresh, name), value
        if current != wanted:
            changed[name] = value
    if changed:
        for name, value in changed.items():
            setattr(fresh, name, value)
        fresh.full_clean(exclude=clean_exclude, validate_unique=False, validate_constraints=False)
        fresh.version += 1
        fresh._history_user = by
        fresh.save()
    adopt(instance, fresh)
    return bool(changed)
