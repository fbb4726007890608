"""The test kit for plugin authors: everything a plugin's own tests need, installed with Praxis.

    from praxis.core import testing

    plugin = testing.load(praxis_video_daily)           # the checks the platform runs at load
    async with testing.client() as http:
        provider = testing.provider(plugin, {"api_key": "k", ...}, http=http)
        assert await testing.behaviour(plugin, provider) == []   # the kind's behavioural checks

- ``settings_for_tests(tmp_path, **env)``: a valid ``Settings`` for a test (SQLite in tmp_path).
- ``load(plugin)``: loads one plugin (module or object) as the platform does; raises
  ``PluginError`` naming what to fix.
- ``provider(plugin, settings, http=...)``: builds its provider for a test clinic, as the
  platform builds it for a real one.
- ``behaviour(plugin, provider, ...)``: the behavioural checks of its kind (results fit their
  DTOs, a retry finds what an earlier attempt made, deleting twice succeeds, a webhook that
  is not genuine is rejected); one sentence per problem, empty when it behaves.
- ``app(settings, plugin)``: the whole platform with the plugin, for functional tests
  (works whether the plugin is pip-installed or not).
- The fakes' harness: ``serve(app)``/``start(app)`` run a Starlette app of yours (a fake of
  your provider) on 127.0.0.1; ``Faults`` makes its next calls fail, time out or answer 429;
  ``Webhooks`` records signed deliveries; ``webhook_request(delivery)`` turns one into what
  your ``parse_webhook`` receives.
- ``pytest_plugins = ["praxis.core.testing.fixtures"]`` gives fixtures: ``praxis_settings``,
  ``praxis_http``.
"""

from praxis.core.sandbox.harness import (
    Delivery,
    Faults,
    RunningFake,
    Webhooks,
    serve,
    start,
    webhook_request,
)
from praxis.core.testing.checks import behaviour, rejects_forged_webhooks
from praxis.core.testing.kit import (
    LoadedPlugin,
    app,
    client,
    context,
    load,
    provider,
    settings_for_tests,
)

__all__ = [
    "Delivery",
    "Faults",
    "LoadedPlugin",
    "RunningFake",
    "Webhooks",
    "app",
    "behaviour",
    "client",
    "context",
    "load",
    "provider",
    "rejects_forged_webhooks",
    "serve",
    "settings_for_tests",
    "start",
    "webhook_request",
]
