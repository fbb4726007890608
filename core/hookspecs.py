"""Every hook a Praxis plugin may implement. This module is the public plugin API.

A plugin is a module registered under the ``praxis`` entry-point group. It
implements hooks with ``@hookimpl``; a misspelt hook name stops start-up with a
message naming the plugin. docs/hooks.md is generated from these docstrings
(``praxis plugins docs``) and a test fails if any hook lacks documentation.
"""

from __future__ import annotations

import pluggy

from core.manifest import DataCategory, DataUse, NoSettings, PluginManifest, Processor

hookspec = pluggy.HookspecMarker("praxis")
hookimpl = pluggy.HookimplMarker("praxis")

__all__ = [
    "DataCategory",
    "DataUse",
    "NoSettings",
    "PluginManifest",
    "Processor",
    "hookimpl",
    "hookspec",
    "praxis_manifest",
]


@hookspec
def praxis_manifest() -> PluginManifest:  # type: ignore[empty-body]
    """Declare what the plugin is. Every plugin implements this hook, exactly once.

    Returns:
        A ``PluginManifest``: ``name`` (lower_snake_case, unique), ``kind`` (video,
        payments, sms, email or questionnaires), ``title`` and ``version``; the
        ``processor`` that receives personal data (legal name, country, transfer
        safeguard, privacy policy URL), or ``None`` if data never leaves the
        platform; ``data``, one ``DataUse`` per operation naming the categories it
        sends, its purpose and legal basis; and ``settings_model``, a pydantic
        model of the per-tenant settings (secrets as ``SecretStr``).

    The manifest feeds ``/-/plugins`` and each tenant's privacy notice.

    Example::

        @hookimpl
        def praxis_manifest() -> PluginManifest:
            return PluginManifest(
                name="sms_example", kind="sms", title="Example SMS", version="1.0",
                processor=Processor(legal_name="Example Ltd", country="GB",
                                    transfer_safeguard="UK", privacy_policy_url="https://x.example/p"),
                data=(DataUse(operation="send", categories=(DataCategory.PHONE,),
                              purpose="appointment reminders", legal_basis="contract"),),
            )
    """
