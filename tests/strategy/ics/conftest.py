"""The seed document for the acceptance tests. None of the ICS parser tests touch the
database."""

import os

import pytest

from tests.strategy.ics.helpers import SEED


@pytest.fixture(scope="session")
def seed_text() -> str:
    """../shared/seeds/ics-china.txt; CI must have it, a bare checkout skips."""
    if not SEED.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the seed document at {SEED}")
        pytest.skip("../shared/seeds/ics-china.txt is not beside this checkout")
    return SEED.read_text(encoding="utf-8")
