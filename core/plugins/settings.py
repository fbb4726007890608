"""Each tenant's settings for each plugin, validated by the plugin's own pydantic model.

Secrets (``SecretStr`` fields) are sealed with a key derived from the platform secret and
bound to the tenant and plugin, so a sealed value copied elsewhere opens nowhere. Forms
are built from the model: clinic admins edit the fields a clinic owns, operators the ones
marked ``OPERATOR_ONLY``; a stored secret is never shown back, only whether one is set.
"""

from __future__ import annotations

import enum
import typing
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from praxis.core.crypto import Keyring
from praxis.core.db import Base, utcnow
from praxis.core.plugins.addresses import refused_addresses
from praxis.core.providers.common import OPERATOR_ONLY
from praxis.core.providers.network import REQUIRE_TLS, OutboundPolicy
from praxis.core.tenancy import TenantScoped

Audience = Literal["clinic", "operator"]
InputKind = Literal["text", "secret", "number", "checkbox", "select", "url"]


class ProviderSetting(TenantScoped, Base):
    __tablename__ = "provider_settings"

    plugin: Mapped[str] = mapped_column(String(48), primary_key=True)
    values: Mapped[dict[str, Any]]  # plain fields, as JSON
    secrets: Mapped[dict[str, Any]]  # sealed SecretStr fields
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    help: str
    input: InputKind
    required: bool
    value: str  # what the form shows ("" for secrets)
    secret_set: bool = False
    choices: tuple[str, ...] = ()


def _is_secret(info: FieldInfo) -> bool:
    return SecretStr in (info.annotation, *typing.get_args(info.annotation))


def is_operator_only(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(next(iter(OPERATOR_ONLY))))


def fields_for(model: type[BaseModel], audience: Audience) -> dict[str, FieldInfo]:
    """The fields this audience may edit."""
    return {
        name: info
        for name, info in model.model_fields.items()
        if is_operator_only(info) == (audience == "operator")
    }


def _input_kind(info: FieldInfo) -> tuple[InputKind, tuple[str, ...]]:
    annotation = info.annotation
    args = typing.get_args(annotation)
    if _is_secret(info):
        return "secret", ()
    if typing.get_origin(annotation) is Literal:
        return "select", tuple(str(a) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "select", tuple(str(m.value) for m in annotation)
    if annotation is bool:
        return "checkbox", ()
    if annotation in (int, float, Decimal):
        return "number", ()
    if "Url" in getattr(annotation, "__name__", "") or any(
        "Url" in getattr(a, "__name__", "") for a in args
    ):
        return "url", ()
    return "text", ()


def _default(info: FieldInfo) -> Any:
    """What an unsaved field shows: its default, or nothing when it has none."""
    return None if info.is_required() else info.get_default(call_default_factory=True)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)


class AddressesRefused(ValueError):
    """Settings name a host the platform will not connect to (``errors``: by field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in errors.items()))
        self.errors = errors


class SettingsStore:
    def __init__(self, keyring: Keyring, outbound: OutboundPolicy | None = None) -> None:
        self.keyring = keyring
        self.outbound = outbound or OutboundPolicy()

    @property
    def context(self) -> dict[str, Any]:
        """What a settings model's validators are told when a person saves (TLS a must?)."""
        return {REQUIRE_TLS: self.outbound.require_tls}

    async def refused(
        self, model: type[BaseModel], validated: BaseModel, names: typing.Iterable[str]
    ) -> dict[str, str]:
        """The fields among ``names`` that aim the platform inward, with why."""
        return await refused_addresses(self.outbound, model, validated, names)

    def _purpose(self, tenant_id: uuid.UUID, plugin: str) -> str:
        return f"provider-settings:{tenant_id}:{plugin}"

    async def row(self, db: AsyncSession, plugin: str) -> ProviderSetting | None:
        return await db.scalar(select(ProviderSetting).where(ProviderSetting.plugin == plugin))

    def stored(self, row: ProviderSetting | None, tenant_id: uuid.UUID) -> dict[str, Any]:
        """Everything stored, secrets unsealed (for building the provider only)."""
        if row is None:
            return {}
        values = dict(row.values)
        purpose = self._purpose(tenant_id, row.plugin)
        for name, sealed in row.secrets.items():
            opened = self.keyring.unseal(purpose, str(sealed))
            if opened is not None:  # a secret sealed under another key is as good as unset
                values[name] = opened
        return values

    def form(
        self,
        model: type[BaseModel],
        row: ProviderSetting | None,
        audience: Audience,
        typed: dict[str, str] | None = None,
    ) -> list[FormField]:
        values = dict(row.values) if row else {}
        secrets_set = self._secrets_set(row)
        shown = []
        for name, info in fields_for(model, audience).items():
            kind, choices = _input_kind(info)
            if typed is not None and kind != "secret":
                value = typed.get(name, "")
            else:
                value = "" if kind == "secret" else _shown(values.get(name, _default(info)))
            shown.append(
                FormField(
                    name=name,
                    label=info.title or name.replace("_", " ").capitalize(),
                    help=info.description or "",
                    input=kind,
                    required=info.is_required(),
                    value=value,
                    secret_set=name in secrets_set,
                    choices=choices,
                )
            )
        return shown

    def _secrets_set(self, row: ProviderSetting | None) -> set[str]:
        """The secrets stored for the row's own tenant and plugin (one sealed elsewhere and
        copied here opens nowhere: it is as good as unset, so the form must not say stored)."""
        if row is None:
            return set()
        purpose = self._purpose(row.tenant_id, row.plugin)
        return {
            name
            for name, sealed in row.secrets.items()
            if self.keyring.unseal(purpose, str(sealed)) is not None
        }

    def status(
        self, model: type[BaseModel], row: ProviderSetting | None, tenant_id: uuid.UUID
    ) -> list[str]:
        """The fields still missing or invalid; empty when the plugin can be used."""
        try:
            model.model_validate(self.stored(row, tenant_id))
        except ValidationError as exc:
            return sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        return []

    async def save(
        self,
        db: AsyncSession,
        *,
        tenant_id: uuid.UUID,
        plugin: str,
        model: type[BaseModel],
        audience: Audience,
        submitted: dict[str, str],
        actor_id: uuid.UUID | None,
    ) -> dict[str, str]:
        """Validate and store this audience's fields. Returns errors by field (nothing saved)."""
        row = await self.row(db, plugin)
        editable = fields_for(model, audience)
        merged = self.stored(row, tenant_id)
        for name, info in editable.items():
            kind, _ = _input_kind(info)
            raw = submitted.get(name, "").strip()
            if kind == "secret" and not raw:
                continue  # blank keeps the stored secret
            if kind == "checkbox":
                merged[name] = raw in ("true", "on", "1", "yes")
            elif raw == "" and not info.is_required():
                merged.pop(name, None)
            else:
                merged[name] = raw
        errors: dict[str, str] = {}
        validated: BaseModel | None
        try:
            validated = model.model_validate(merged, context=self.context)
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                name = str(error["loc"][0]) if error["loc"] else ""
                if name in editable:  # the other audience's missing fields are theirs to set
                    errors.setdefault(name, _sentence(str(error["msg"])))
            # The hosts typed are checked too, so one answer names every field to change
            typed = model.model_construct(**{k: v for k, v in merged.items() if k in editable})
            for name, reason in (await self.refused(model, typed, editable)).items():
                errors.setdefault(name, reason)
            if errors:
                return errors
            validated = None
        else:
            errors = await self.refused(model, validated, editable)  # typed, so all is valid
            if errors:
                return errors
        values, secrets = self._split(model, validated, merged, row, tenant_id, plugin)
        if row is None:
            row = ProviderSetting(plugin=plugin, values=values, secrets=secrets, version=1)
            db.add(row)
        else:
            row.values = values
            row.secrets = secrets
            row.version += 1
        row.updated_at = utcnow()
        row.updated_by = actor_id
        return {}

    def _split(
        self,
        model: type[BaseModel],
        validated: BaseModel | None,
        merged: dict[str, Any],
        row: ProviderSetting | None,
        tenant_id: uuid.UUID,
        plugin: str,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Plain values as JSON, secrets sealed; partial settings are kept as typed."""
        dumped = validated.model_dump(mode="json") if validated is not None else merged
        purpose = self._purpose(tenant_id, plugin)
        values: dict[str, Any] = {}
        secrets: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            if name not in merged:
                continue
            if _is_secret(info):
                raw = merged[name]
                plain = raw.get_secret_value() if isinstance(raw, SecretStr) else str(raw)
                secrets[name] = self.keyring.seal(purpose, plain)
            else:
                values[name] = dumped.get(name, merged[name])
        return values, secrets


def _sentence(message: str) -> str:
    text = message.removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


async def put_settings(
    store: SettingsStore,
    db: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    plugin: str,
    model: type[BaseModel],
    values: dict[str, Any],
    actor_id: uuid.UUID | None = None,
) -> None:
    """Store a complete set of settings at once (the CLI, the demo): raises ValidationError,
    or AddressesRefused for a host the platform will not connect to."""
    validated = model.model_validate(values, context=store.context)
    refused = await store.refused(model, validated, values)
    if refused:
        raise AddressesRefused(refused)
    merged = {name: getattr(validated, name) for name in values}
    row = await store.row(db, plugin)
    plain, secrets = store._split(model, validated, merged, row, tenant_id, plugin)
    if row is None:
        db.add(
            ProviderSetting(
                plugin=plugin, values=plain, secrets=secrets, version=1, updated_by=actor_id
            )
        )
    else:
        row.values, row.secrets, row.version = plain, secrets, row.version + 1
        row.updated_at, row.updated_by = utcnow(), actor_id
