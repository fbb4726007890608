"""praxis.core.plugins.loader: discovery through the ``praxis`` entry-point group, checks at
load (a bad plugin disables only itself, with the reason), and ``/-/plugins`` for staff."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, SecretStr, ValidationError

import praxis.core.plugins.loader
from praxis.core.app import create_app
from praxis.core.config import Settings, load_settings
from praxis.core.hookspecs import DataCategory, DataUse, PluginManifest, Processor, hookimpl
from praxis.core.plugins import ENTRY_POINT_GROUP, PluginError, load_plugins
from tests.conftest import client_for
from tests.support import Clinic, login, make_clinic, make_operator

BUILT_INS = ["email_smtp", "payments_stripe", "questionnaires", "sms_twilio", "video_whereby"]


class FooSettings(BaseModel):
    api_key: SecretStr


def manifest(name: str = "video_foo", **extra: Any) -> PluginManifest:
    values: dict[str, Any] = {
        "name": name,
        "kind": "video",
        "title": "Foo video",
        "version": "1.2.3",
        "requires": ">=1.0,<2",
        "processor": Processor(
            legal_name="Foo Video GmbH",
            country="DE",
            transfer_safeguard="EEA: UK adequacy regulations",
            privacy_policy_url="https://foo.example/privacy",
        ),
        "data": (
            DataUse(
                operation="create_meeting",
                categories=(DataCategory.APPOINTMENT,),
                purpose="host the video consultation",
                legal_basis="contract",
            ),
        ),
        "settings_model": FooSettings,
    }
    values.update(extra)
    return PluginManifest(**values)


class FooRooms:
    """A provider class that keeps the VideoProvider Protocol (never called here)."""

    webhook_reply = None

    def __init__(self, context: Any) -> None:
        self.context = context

    async def create_meeting(self, request: Any) -> Any:
        raise NotImplementedError

    async def delete_meeting(self, request: Any) -> None:
        raise NotImplementedError

    def parse_webhook(self, request: Any) -> None:
        return None


class VideoFoo:
    """A third-party plugin, as `pip install praxis-video-foo` would provide it."""

    __name__ = "praxis_video_foo"

    @hookimpl
    def praxis_manifest(self) -> PluginManifest:
        return manifest()

    @hookimpl
    def praxis_register_providers(self) -> Any:
        return FooRooms


def plugin_module(name: str, **hooks: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, function)
    return module


def failure(*extra: object, entry_points: bool = False) -> str:
    """The reason a plugin is refused: strict loading (the test kit, ``plugins check``) raises
    it; ordinary loading disables that plugin alone with the same reason."""
    with pytest.raises(PluginError) as caught:
        load_plugins(extra=extra, entry_points=entry_points, strict=True)
    reason = str(caught.value)
    lenient = load_plugins(extra=extra, entry_points=entry_points)
    assert reason in [d.reason for d in lenient.disabled.values()]
    if entry_points:
        assert set(BUILT_INS) - {d.name for d in lenient.disabled.values()} <= set(
            lenient.manifests
        )
    return reason


# --- discovery -------------------------------------------------------------------------------


def test_the_built_ins_are_registered_through_the_entry_point_group() -> None:
    declared = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    assert ENTRY_POINT_GROUP == "praxis"
    assert set(BUILT_INS) <= set(declared)
    loaded = load_plugins()
    assert list(loaded.manifests) == sorted(loaded.manifests)
    assert set(BUILT_INS) <= set(loaded.manifests)
    for name in BUILT_INS:
        assert loaded.manager.get_plugin(name) is not None, name


def test_without_entry_points_nothing_is_loaded() -> None:
    assert load_plugins(entry_points=False).manifests == {}


def test_the_built_ins_declare_their_kind_and_processor() -> None:
    manifests = load_plugins().manifests
    assert {m.kind for m in manifests.values()} >= {"video", "payments", "sms", "questionnaires"}
    assert manifests["questionnaires"].processor is None  # answers stay on the platform
    for name in ("video_whereby", "payments_stripe", "sms_twilio"):
        processor = manifests[name].processor
        assert processor is not None and processor.legal_name
        assert manifests[name].data, name
    assert [m.name for m in load_plugins().of_kind("sms")] == ["sms_twilio"]


def test_a_third_party_plugin_appears_beside_the_built_ins() -> None:
    loaded = load_plugins(extra=[VideoFoo()])
    assert "video_foo" in loaded.manifests
    assert set(BUILT_INS) <= set(loaded.manifests)
    assert [m.name for m in loaded.of_kind("video")] == ["video_foo", "video_whereby"]
    public = loaded.manifests["video_foo"].public()
    assert public["processor"]["legal_name"] == "Foo Video GmbH"
    assert public["settings_schema"]["properties"]["api_key"]["format"] == "password"
    assert "settings_model" not in public


def test_a_module_plugin_works_like_an_object_plugin() -> None:
    module = plugin_module(
        "praxis_video_bar",
        praxis_manifest=hookimpl(lambda: manifest("video_bar")),
        praxis_register_providers=hookimpl(lambda: FooRooms),
    )
    assert "video_bar" in load_plugins(extra=[module], entry_points=False).manifests


# --- a bad plugin disables itself, named, and nothing else -----------------------------------


def test_a_misspelt_hook_disables_the_plugin_naming_it() -> None:
    class Typo:
        __name__ = "praxis_typo_plugin"

        @hookimpl
        def praxis_manifest(self) -> PluginManifest:
            return manifest("typo_plugin")

        @hookimpl
        def praxis_manifets(self) -> PluginManifest:
            return manifest("typo_plugin")

    message = failure(Typo())
    assert message.startswith("plugin praxis_typo_plugin: ")
    assert "praxis_manifets" in message
    assert "did you mean praxis_manifest?" in message
    assert "docs/hooks.md" in message
    assert "object at 0x" not in message


def test_the_app_starts_without_a_plugin_that_has_a_misspelt_hook(tmp_path: Path) -> None:
    settings = load_settings(
        PRAXIS_ENV="test",
        PRAXIS_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        SECRET_KEY="s" * 40,
    )
    typo = plugin_module("praxis_typo", praxis_manifets=hookimpl(lambda: manifest()))
    app = create_app(settings, extra_plugins=[typo], access_log=False)
    plugins = app.state.runtime.plugins
    assert set(BUILT_INS) <= set(plugins.manifests)
    assert plugins.disabled["praxis_typo"].reason.startswith("plugin praxis_typo: praxis_manifets")


def test_a_misspelt_manifest_hook_in_a_module_plugin() -> None:
    module = plugin_module("praxis_misspelt", praxis_manifets=hookimpl(lambda: manifest()))
    message = failure(module)
    assert message.startswith("plugin praxis_misspelt: ")
    assert "praxis_manifets" in message


def test_a_hook_without_hookimpl_is_reported() -> None:
    module = plugin_module(
        "praxis_forgetful",
        praxis_manifest=hookimpl(lambda: manifest("forgetful")),
        praxis_manfest=lambda: manifest("forgetful"),
    )
    message = failure(module)
    assert message.startswith("plugin praxis_forgetful: ")
    assert "praxis_manfest" in message


def test_a_hook_with_unknown_arguments_is_reported() -> None:
    class Greedy:
        __name__ = "praxis_greedy"

        @hookimpl
        def praxis_manifest(self, tenant: object) -> PluginManifest:
            return manifest("greedy")

    message = failure(Greedy())
    assert message.startswith("plugin praxis_greedy: ")
    assert "tenant" in message


def test_a_plugin_without_a_manifest_fails() -> None:
    class Silent:
        __name__ = "praxis_silent"

    message = failure(Silent())
    assert message == "plugin praxis_silent: it implements no praxis_manifest hook"


def test_a_manifest_of_the_wrong_type_fails() -> None:
    module = plugin_module("praxis_dict", praxis_manifest=hookimpl(lambda: {"name": "x"}))
    assert failure(module) == ("plugin praxis_dict: praxis_manifest must return a PluginManifest")


def test_a_manifest_that_raises_fails_naming_the_plugin() -> None:
    def broken() -> PluginManifest:
        return manifest("Not A Valid Name")

    message = failure(plugin_module("praxis_broken", praxis_manifest=hookimpl(broken)))
    assert message.startswith("plugin praxis_broken: its manifest is not valid: ")
    assert "lower_snake_case" in message


@pytest.mark.parametrize("country", ["ie", "Ireland", "I", ""])
def test_the_processor_country_is_an_iso_code(country: str) -> None:
    with pytest.raises(ValidationError, match="country"):
        Processor(
            legal_name="X Ltd",
            country=country,
            transfer_safeguard="UK adequacy",
            privacy_policy_url="https://x.example/privacy",
        )


def test_duplicate_names_fail() -> None:
    copy = plugin_module("praxis_copycat", praxis_manifest=hookimpl(lambda: manifest()))
    message = failure(VideoFoo(), copy)
    assert "the name 'video_foo' is taken" in message
    assert message.startswith(("plugin praxis_copycat: ", "plugin praxis_video_foo: "))


def test_a_third_party_plugin_cannot_take_a_built_in_name() -> None:
    impostor = plugin_module(
        "praxis_impostor", praxis_manifest=hookimpl(lambda: manifest("video_whereby"))
    )
    assert "the name 'video_whereby' is taken" in failure(impostor, entry_points=True)


def test_an_installed_plugin_passed_in_again_is_used_once() -> None:
    """A plugin's own functional tests pass it to create_app even once it is pip-installed."""
    import praxis.plugins.video_whereby

    loaded = load_plugins(extra=[praxis.plugins.video_whereby], strict=True)
    assert loaded.disabled == {} and [m.name for m in loaded.usable("video")] == ["video_whereby"]


def test_an_entry_point_that_cannot_be_imported_disables_only_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = praxis.core.plugins.loader._entry_points()
    broken = EntryPoint(name="video_gone", value="praxis_no_such_module", group="praxis")
    monkeypatch.setattr(praxis.core.plugins.loader, "_entry_points", lambda: [*installed, broken])
    message = failure(entry_points=True)
    assert message.startswith("plugin video_gone (praxis_no_such_module): cannot be loaded: ")
    assert "No module named 'praxis_no_such_module'" in message
    loaded = load_plugins()
    assert set(BUILT_INS) <= set(loaded.manifests)  # everyone else starts as usual
    assert list(loaded.disabled) == ["video_gone"]
    logged = capsys.readouterr()
    assert "plugin_disabled" in logged.out + logged.err and "video_gone" in logged.out + logged.err


def test_a_plugin_for_another_plugin_api_is_disabled_with_the_versions() -> None:
    future = plugin_module(
        "praxis_future",
        praxis_manifest=hookimpl(lambda: manifest("video_future", requires=">=2.0")),
        praxis_register_providers=hookimpl(lambda: FooRooms),
    )
    message = failure(future)
    assert "requires plugin API >=2.0, but this platform offers 1." in message
    with pytest.raises(ValidationError, match="is not a version range"):
        manifest(requires="two or more")
    with pytest.raises(ValidationError, match="say which plugin API you need"):
        manifest(requires="")


@pytest.mark.parametrize("requires", [">=1.0,<2", ">=1.1,<2", ">=1.2,<2"])
def test_plugins_written_for_an_earlier_minor_version_still_fit(requires: str) -> None:
    """1.2 only adds (optional operations): a plugin for 1.0 or 1.1 loads unchanged."""
    assert manifest(requires=requires).fits() and not manifest(requires=requires).fits("2.0")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"data": ()}, "must declare appointment for create_meeting"),
        ({"processor": None}, "names no processor"),
    ],
)
def test_a_plugin_that_breaks_the_kit_is_never_offered(change: dict[str, Any], reason: str) -> None:
    careless = plugin_module(
        "praxis_careless",
        praxis_manifest=hookimpl(lambda: manifest("video_careless", **change)),
        praxis_register_providers=hookimpl(lambda: FooRooms),
    )
    assert reason in failure(careless)
    loaded = load_plugins(extra=[careless], entry_points=False)
    assert loaded.usable("video") == [] and loaded.disabled_of("video")[0].name == "praxis_careless"


def test_a_provider_class_missing_a_method_is_disabled() -> None:
    class Half:
        def __init__(self, context: Any) -> None:
            pass

        async def create_meeting(self, request: Any) -> Any:
            raise NotImplementedError

    half = plugin_module(
        "praxis_half",
        praxis_manifest=hookimpl(lambda: manifest("video_half")),
        praxis_register_providers=hookimpl(lambda: Half),
    )
    assert "does not implement VideoProvider (missing: delete_meeting, parse_webhook" in failure(
        half
    )


def test_a_manifest_naming_an_operation_the_kind_does_not_have_is_refused() -> None:
    with pytest.raises(ValidationError, match="data names send, which video providers do not"):
        manifest(
            data=(
                DataUse(
                    operation="send",
                    categories=(DataCategory.APPOINTMENT,),
                    purpose="x",
                    legal_basis="contract",
                ),
            )
        )


# --- /-/plugins ------------------------------------------------------------------------------


@pytest.fixture
async def foo_app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings, extra_plugins=[VideoFoo()], access_log=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def foo_clinic(foo_app: Any) -> Clinic:
    return await make_clinic(foo_app.state.runtime, "alpha")


async def test_staff_see_the_installed_plugins(foo_app: Any, foo_clinic: Clinic) -> None:
    async with client_for(foo_app, foo_clinic.host) as http:
        await login(http, foo_clinic.admin.username)
        response = await http.get("/-/plugins")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    listed = {p["name"]: p for p in response.json()["plugins"]}
    assert set(BUILT_INS) | {"video_foo"} <= set(listed)
    foo = listed["video_foo"]
    assert foo["kind"] == "video"
    assert foo["processor"] == {
        "legal_name": "Foo Video GmbH",
        "country": "DE",
        "transfer_safeguard": "EEA: UK adequacy regulations",
        "privacy_policy_url": "https://foo.example/privacy",
    }
    assert foo["settings_schema"]["required"] == ["api_key"]
    assert foo["enabled"] is False
    assert listed["questionnaires"]["processor"] is None
    assert listed["payments_stripe"]["settings_schema"]["properties"]["secret_key"]
    assert "settings_model" not in foo


@pytest.mark.parametrize("who", ["anonymous", "consumer", "professional"])
async def test_plugins_are_not_found_for_anyone_else(
    foo_app: Any, foo_clinic: Clinic, who: str
) -> None:
    async with client_for(foo_app, foo_clinic.host) as http:
        if who == "consumer":
            await login(http, foo_clinic.consumer.username)
        elif who == "professional":
            await login(http, foo_clinic.professional.username)
        response = await http.get("/-/plugins")
    assert response.status_code == 404
    assert "video_foo" not in response.text and "Whereby" not in response.text


async def test_operators_see_the_plugins_on_the_platform_site(app: Any, rt: Any) -> None:
    operator = await make_operator(rt)
    async with client_for(app, rt.settings.platform_domain) as http:
        assert (await http.get("/-/plugins")).status_code == 404
        await login(http, operator.username, prefix="/platform")
        response = await http.get("/-/plugins")
    assert response.status_code == 200
    assert {p["name"] for p in response.json()["plugins"]} >= set(BUILT_INS)


async def test_plugins_is_not_served_on_an_unknown_host(app: Any) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://nowhere.localhost"
    ) as http:
        assert (await http.get("/-/plugins")).status_code == 404


def test_a_specname_naming_no_hook_is_reported() -> None:
    class Renamed:
        __name__ = "praxis_renamed"

        @hookimpl
        def praxis_manifest(self) -> PluginManifest:
            return manifest("renamed")

        @hookimpl(specname="praxis_manifets")
        def describe(self) -> PluginManifest:
            return manifest("renamed")

    message = failure(Renamed())
    assert message.startswith("plugin praxis_renamed: ")
    assert "praxis_manifets" in message
