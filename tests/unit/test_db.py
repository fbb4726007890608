"""praxis.core.db: an embedded SQLite too old for the paid checkout's statements stops start-up
with a message that says what to do, rather than failing on the first paid booking."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from praxis.core.config import ConfigError
from praxis.core.db import SQLITE_NEEDED, check_sqlite_version, create_engine
from praxis.core.testing import settings_for_tests


@pytest.mark.parametrize("version", [(3, 34, 1), (3, 7, 17)])
def test_an_sqlite_older_than_3_35_is_refused_with_what_to_do(
    version: tuple[int, int, int],
) -> None:
    with pytest.raises(ConfigError) as refused:
        check_sqlite_version(version)
    message = str(refused.value)
    assert message.startswith(f"SQLite {'.'.join(map(str, version))} is too old: ")
    assert "3.35.0 or newer (UPDATE ... RETURNING)" in message and "PostgreSQL" in message


def test_this_machines_sqlite_is_new_enough_and_the_engine_starts(tmp_path: Path) -> None:
    assert sqlite3.sqlite_version_info >= SQLITE_NEEDED
    check_sqlite_version((3, 35, 0))
    engine = create_engine(settings_for_tests(tmp_path))
    assert engine.dialect.name == "sqlite"


def test_create_engine_checks_the_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))  # the library Python has
    with pytest.raises(ConfigError, match=r"SQLite 3\.31\.1 is too old"):
        create_engine(settings_for_tests(tmp_path))
