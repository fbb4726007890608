"""PostgreSQL's second wall: the application role and row-level security per tenant table.

The role is cluster-wide, so downgrades revoke what they granted but leave the
role itself for any other database that uses it.
"""

from __future__ import annotations

import os
import re

from alembic import op

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def app_role() -> str:
    role = os.environ.get("DATABASE_ROLE", "praxis_app") or "praxis_app"
    if not _NAME.match(role):
        raise ValueError("DATABASE_ROLE must be a lower-case PostgreSQL role name")
    return role


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_app_role() -> None:
    """A login-less role without BYPASSRLS; the app connects and SETs ROLE to it."""
    if not _postgres():
        return
    role = app_role()
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} NOLOGIN NOBYPASSRLS; END IF; END $$"
    )
    op.execute(f"GRANT {role} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")


def grant_tables(tables: list[str], privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    if not _postgres():
        return
    for table in tables:
        op.execute(f"GRANT {privileges} ON {table} TO {app_role()}")


def isolate_tenants(tables: list[str]) -> None:
    """Rows are visible and writable only for the tenant set at transaction start."""
    if not _postgres():
        return
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {TENANT_SETTING}) WITH CHECK (tenant_id = {TENANT_SETTING})"
        )


def revoke_schema() -> None:
    if _postgres():
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {app_role()}")
