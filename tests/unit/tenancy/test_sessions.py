"""No way around the wall: a session's raw connection is refused, and a code check keeps
raw connections, engines and text to the tenancy package (and migrations)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from praxis.core.accounts.models import User
from praxis.core.runtime import Runtime
from praxis.core.tenancy import RawConnectionRefused
from tests.support import Clinic

P27 = pytest.mark.promise("P27")
ROOT = Path(__file__).resolve().parents[3]
# Code allowed to reach below a session: the wall itself, the engine's set-up, migrations.
ALLOWED = ("core/tenancy/", "core/db.py", "core/migrate.py", "migrations/")
RAW = re.compile(
    r"\.connection\(|\bget_bind\(|\.engine\b|\bexec_driver_sql\(|(?<![.\w])(?<!def )text\("
    r"|\.bind\b(?!\s*\()"
)


@P27
async def test_a_raw_connection_query_of_a_tenant_table_fails(
    rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with rt.database.reading(clinic.tenant.id) as db:
        with pytest.raises(RawConnectionRefused):
            await (await db.connection()).execute(select(User))
        with pytest.raises(RawConnectionRefused):
            db.sync_session.connection()
        seen = (await db.scalars(select(User.username))).all()
    assert len(seen) == 4  # the session itself still works, inside its tenant


def _offenders() -> list[str]:
    found = []
    for folder in ("core", "tenants", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(ALLOWED):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if RAW.search(code):
                    found.append(f"{relative}:{number}: {line.strip()}")
    return found


@P27
def test_only_the_tenancy_package_reaches_below_a_session() -> None:
    """Engines, raw connections and text SQL walk around the ORM filter: outside the wall's
    own code (and migrations) none may appear. Add a place here only with a reason."""
    assert _offenders() == []


def test_the_code_check_would_notice_a_raw_connection(tmp_path: Path) -> None:
    for sample in (
        "conn = await db.connection()",
        "await db.execute(text('SELECT * FROM users'))",
        "engine = db.get_bind()",
        "rt.database.engine.connect()",
    ):
        assert RAW.search(sample), sample
    for fine in (
        "body = sms_text(template, facts)",
        "params.text('email')",
        "sock.bind((host, 0))",
    ):
        assert not RAW.search(fine), fine
