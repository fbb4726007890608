"""Praxis, installed as one package: ``praxis.core``, ``praxis.plugins``, ``praxis.tenants`` and
``praxis.migrations`` are the repository's top-level folders of the same names (linked here),
so nothing Praxis installs can collide with another distribution's ``core`` or ``plugins``."""

__version__ = "0.2.0"
