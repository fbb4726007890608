"""The provider API plugins implement, one Protocol per kind, with the DTOs they exchange.

Only the platform (``praxis.core.plugins.facade``) calls a provider. It builds each request with
exactly the fields the operation needs and records the disclosure in the ledger before the
bytes leave and its outcome after, so a plugin writes no logging code. Public modules:
``common`` (shared errors, DTO field types, ``Operation`` and ``Kind``), ``video``, ``payments``,
``sms``, ``email``, ``questionnaires`` (each kind's DTOs, Protocol and ``KIND``), ``kinds``,
``manifest``, ``results`` and ``conformance``.
"""

from praxis.core.providers.common import PLUGIN_API

__all__ = ["PLUGIN_API"]
