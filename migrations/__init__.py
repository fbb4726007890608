"""Alembic migrations: one linear history that runs on SQLite and PostgreSQL."""

if __name__ != "praxis.migrations":  # one copy of every module, under its installed name
    raise ImportError("import praxis.migrations, not migrations: see README.md, Packaging")
