"""Alembic migrations: one linear history that runs on SQLite and PostgreSQL."""
