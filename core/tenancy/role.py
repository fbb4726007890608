"""Is the database user the app signs in as one that row-level security really binds?

A user that is a superuser, may bypass RLS, owns the tables or may become another role can
undo the second wall with one injected statement (``RESET ROLE``, ``SET ROLE``, ``ALTER
TABLE``). The documented set-up signs in as ``praxis_app``, which is none of these; production
refuses to start otherwise, development and tests only warn.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import text

from praxis.core.config import ConfigError, Settings
from praxis.core.tenancy.sessions import PLATFORM_SCOPE, Database

log = structlog.get_logger("praxis.db")

_WHO = text(
    "SELECT r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, "
    "EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid) AS is_member, "
    "EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid "
    "AND c.relnamespace = current_schema()::regnamespace) AS owns "
    "FROM pg_roles r WHERE r.rolname = session_user"
).execution_options(**{PLATFORM_SCOPE: True})


@dataclass(frozen=True)
class DatabaseUser:
    name: str
    problems: tuple[str, ...]  # what it could do around row-level security; () when nothing


async def database_user(database: Database) -> DatabaseUser | None:
    """Who the app signed in as, on PostgreSQL (None elsewhere: no second wall to undo)."""
    if database.engine.dialect.name != "postgresql":
        return None
    async with database.reading() as db:
        who = (await db.execute(_WHO)).one()
    problems = []
    if who.rolsuper:
        problems.append("is a superuser")
    if who.rolbypassrls:
        problems.append("may bypass row-level security")
    if who.rolcreaterole:
        problems.append("may create roles")
    if who.is_member:
        problems.append("is a member of another role (so may SET ROLE to it)")
    if who.owns:
        problems.append("owns tables (so may switch their row-level security off)")
    return DatabaseUser(who.rolname, tuple(problems))


async def check_database_role(database: Database, settings: Settings) -> None:
    """At start-up: refuse in production, warn elsewhere."""
    user = await database_user(database)
    if user is None or not user.problems:
        return
    advice = (
        "Sign in as the app's own role: DATABASE_URL with the user "
        f"{settings.database_role or 'praxis_app'!r}, and MIGRATION_DATABASE_URL with the "
        "tables' owner (docs/deploy.md)."
    )
    if settings.env == "production":
        raise ConfigError(
            f"Row-level security cannot bind the database user {user.name!r}: it "
            f"{'; '.join(user.problems)}. {advice}"
        )
    log.warning("database_role_not_restricted", problems=user.problems, advice=advice)
