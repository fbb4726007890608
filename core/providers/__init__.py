"""The provider API plugins implement, one Protocol per kind, with the DTOs they exchange.

Only ``core.providers`` (the facade, internal) calls a provider. It builds each request
with exactly the fields the operation needs and records the disclosure in the ledger
before the bytes leave and its outcome after, so a plugin writes no logging code.
Public modules: ``common``, ``video``, ``payments``, ``sms``, ``email``, ``questionnaires``.
"""
