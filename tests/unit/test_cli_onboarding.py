"""`praxis tenants add` shares the onboarding service with the operator's form: a file with a
``[first_admin]`` table invites that admin by email, exactly as the form does."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_cli import (  # noqa: F401 (fixtures)
    CLINIC,
    Praxis,
    cheap_password_hashing,
    keep_logging_config,
    migrated,
    praxis,
    ready,
)

FIRST_ADMIN = """
[first_admin]
full_name = "Jo Admin"
email = "jo@north.example"
"""


def test_a_file_naming_a_first_admin_invites_them(
    ready: Praxis,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    path = tmp_path / "north.toml"
    path.write_text(CLINIC + FIRST_ADMIN, encoding="utf-8")
    said = ready.ok("tenants", "add", str(path))
    assert "created: north" in said and "invitation emailed to the first admin" in said
    rows = ready.rows()
    (invitation,) = rows["staff_invitations"]
    assert "jo@north.example" in invitation and "clinic_admin" in invitation
    assert [job for job in rows["outbox_jobs"] if "accounts.staff_invitation" in job]
    assert rows["users"] == []  # nobody holds the admin's first credentials
    again = ready.ok("tenants", "add", str(path), "--update")
    assert "invitation" not in again and ready.count("staff_invitations") == 1


def test_a_bad_first_admin_names_the_field(
    ready: Praxis,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    path = tmp_path / "north.toml"
    path.write_text(CLINIC + FIRST_ADMIN.replace("jo@north.example", "nope"), encoding="utf-8")
    said = ready.fails("tenants", "add", str(path))
    assert "first_admin.email" in said
    assert ready.count("tenants") == 0
