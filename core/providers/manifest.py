"""What a plugin declares about itself: kind, processor, data it sends, its settings."""

from __future__ import annotations

import re
import typing
from typing import Any, Protocol, runtime_checkable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from praxis.core.providers.common import PLUGIN_API, DataCategory, PluginKind
from praxis.core.providers.kinds import KINDS

PLUGIN_KINDS: tuple[PluginKind, ...] = typing.get_args(PluginKind)
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
__all__ = [
    "PLUGIN_KINDS",
    "DataCategory",
    "DataUse",
    "NamesProcessor",
    "NoSettings",
    "PluginKind",
    "PluginManifest",
    "Processor",
]


class Processor(BaseModel):
    """The third party that receives the data, as the privacy notice must name it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    legal_name: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. IE")
    transfer_safeguard: str = Field(min_length=1)
    privacy_policy_url: HttpUrl


@runtime_checkable
class NamesProcessor(Protocol):
    """A settings model whose clinic chooses the processor (its own SMTP relay, say) defines
    ``processor()``: the platform then names that processor, not the manifest's, in the
    ledger and in the clinic's privacy notice. Optional; added without an API version change
    (a platform that does not know it uses the manifest's processor)."""

    def processor(self) -> Processor: ...


class DataUse(BaseModel):
    """One operation of the provider and the categories it sends, with why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operation: str = Field(min_length=1)
    categories: tuple[DataCategory, ...]
    purpose: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)


class NoSettings(BaseModel):
    """For plugins that need no per-tenant configuration."""

    model_config = ConfigDict(extra="forbid")


class PluginManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    kind: PluginKind
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    requires: str = Field(
        description="The plugin API versions this plugin works with, e.g. '>=1.0,<2'"
    )
    description: str = ""
    processor: Processor | None = Field(
        None, description="None only when data never leaves the platform"
    )
    data: tuple[DataUse, ...] = ()
    settings_model: type[BaseModel] = NoSettings

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("plugin names are lower_snake_case, 2-48 characters")
        return value

    @field_validator("requires")
    @classmethod
    def _requires(cls, value: str) -> str:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(
                f"{value!r} is not a version range: write e.g. '>=1.0,<2' (this platform's "
                f"plugin API is {PLUGIN_API})"
            ) from None
        if not value.strip():
            raise ValueError(
                f"say which plugin API you need, e.g. '>=1.0,<2' (this is {PLUGIN_API})"
            )
        return value

    @model_validator(mode="after")
    def _operations(self) -> PluginManifest:
        """What is sent names the kind's operations; a plugin whose data stays on the
        platform (no processor) may describe its uses in its own words."""
        if self.processor is None:
            return self
        known = sorted(op.name for op in KINDS[self.kind].operations)
        unknown = [use.operation for use in self.data if use.operation not in known]
        if unknown:
            choices = ", ".join(known) or "none: nothing of theirs leaves the platform"
            raise ValueError(
                f"data names {', '.join(unknown)}, which {self.kind} providers do not do "
                f"(their operations: {choices})"
            )
        return self

    def fits(self, api: str = PLUGIN_API) -> bool:
        """Whether this platform's plugin API is one the plugin says it works with."""
        return SpecifierSet(self.requires).contains(api, prereleases=True)

    def public(self) -> dict[str, Any]:
        """What /-/plugins shows: everything but code, with the settings' JSON schema."""
        body = self.model_dump(mode="json", exclude={"settings_model"})
        body["settings_schema"] = self.settings_model.model_json_schema()
        return body
