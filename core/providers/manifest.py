"""What a plugin declares about itself: kind, processor, data it sends, its settings."""

from __future__ import annotations

import enum
import re
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

PluginKind = Literal["video", "payments", "sms", "email", "questionnaires"]
PLUGIN_KINDS: tuple[PluginKind, ...] = typing.get_args(PluginKind)
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,47}$")


class DataCategory(enum.StrEnum):
    """Categories of personal data, as a privacy notice names them."""

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    APPOINTMENT = "appointment"
    PAYMENT = "payment"
    HEALTH = "health"  # special category (UK GDPR Art. 9)


class Processor(BaseModel):
    """The third party that receives the data, as the privacy notice must name it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    legal_name: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. IE")
    transfer_safeguard: str = Field(min_length=1)
    privacy_policy_url: HttpUrl


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

    def public(self) -> dict[str, Any]:
        """What /-/plugins shows: everything but code, with the settings' JSON schema."""
        body = self.model_dump(mode="json", exclude={"settings_model"})
        body["settings_schema"] = self.settings_model.model_json_schema()
        return body
