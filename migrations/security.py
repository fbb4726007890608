"""PostgreSQL's second wall: the application role and row-level security per tenant table.

The role is cluster-wide, so downgrades revoke what they granted but leave the
role itself for any other database that uses it.
"""

from __future__ import annotations

import os
import re

from alembic import op

from praxis.core.tenancy.rls import CURRENT_TENANT_SQL as TENANT_SETTING

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


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


def isolate_tagged(tables: list[str]) -> None:
    """A platform table whose rows each belong to a tenant (the outbox's jobs): a tenant's
    transaction sees and writes its own rows only; a platform transaction (no tenant set, the
    workers) all of them."""
    if not _postgres():
        return
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        mine = f"(tenant_id = {TENANT_SETTING} OR {TENANT_SETTING} IS NULL)"
        op.execute(f"CREATE POLICY tenant_rows ON {table} USING {mine} WITH CHECK {mine}")


def release_tagged(tables: list[str]) -> None:
    if not _postgres():
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tenant_rows ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


FIXED_TRIGGER = "tenant_id_fixed"  # every walled table has one, named <table>_<this>


def fix_tenant(tables: list[str]) -> None:
    """A row's tenant never changes, whoever writes: the database refuses it on both backends."""
    postgres = _postgres()
    if postgres:
        op.execute(
            "CREATE OR REPLACE FUNCTION praxis_tenant_id_fixed() RETURNS trigger AS $$ BEGIN "
            "IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN "
            "RAISE EXCEPTION 'a row cannot move to another tenant'; END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql"
        )
    for table in tables:
        name = f"{table}_{FIXED_TRIGGER}"
        if postgres:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OF tenant_id ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION praxis_tenant_id_fixed()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OF tenant_id ON {table} "
                "WHEN NEW.tenant_id IS NOT OLD.tenant_id "
                "BEGIN SELECT RAISE(ABORT, 'a row cannot move to another tenant'); END"
            )


def unfix_tenant(tables: list[str], *, drop_function: bool = True) -> None:
    """Drop the tables' tenant triggers (a later migration's downgrade keeps the function,
    which the earlier tables' triggers still use)."""
    postgres = _postgres()
    for table in tables:
        name = f"{table}_{FIXED_TRIGGER}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    if postgres and drop_function:
        op.execute("DROP FUNCTION IF EXISTS praxis_tenant_id_fixed()")


def _index_name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_tenant_id_{'_'.join(columns)}"


def create_tenant_indexes(table: str, indexes: tuple[tuple[str, ...], ...]) -> None:
    """One index per column list, each led by tenant_id (every query is narrowed by it)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for columns in indexes:
            name = batch_op.f(_index_name(table, columns))
            batch_op.create_index(name, ["tenant_id", *columns], unique=False)


def drop_tenant_indexes(table: str, indexes: tuple[tuple[str, ...], ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for columns in indexes:
            batch_op.drop_index(batch_op.f(_index_name(table, columns)))
