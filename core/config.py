"""Settings from the environment: one object, built once and passed, never imported."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import Literal

import limits
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RATE = re.compile(r"^\d+\s*(/|per)\s*\d*\s*[a-z]+$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SECRET_MIN = 32
# Plain URLs (as hosting platforms hand them out) get the async driver Praxis uses.
_DRIVERS = {
    "sqlite:///": "sqlite+aiosqlite:///",
    "postgres://": "postgresql+asyncpg://",
    "postgresql://": "postgresql+asyncpg://",
}


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says what to do."""


ICO_COMPLAINTS = "https://ico.org.uk/make-a-complaint/"


class InfrastructureProcessor(BaseModel):
    """A processor the platform itself uses for every clinic (hosting, the email relay), as
    the operator declares it in PLATFORM_PROCESSORS; each clinic's notice names it (P22)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2
    transfer_safeguard: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=300)
    categories: tuple[str, ...] = ()
    privacy_policy_url: str = ""


class PlatformController(BaseModel):
    """The operator as controller of accounts, site and marketing data (P38), named by the
    platform's own notice; PLATFORM_CONTROLLER, a JSON object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_name: str = Field(min_length=1, max_length=200)
    registered_number: str | None = Field(None, max_length=40)
    address: str = Field(min_length=1, max_length=500)
    dpo_contact: str = Field(min_length=3, max_length=254)
    ico_registration: str = Field(min_length=1, max_length=20)
    complaints_route: str = Field(ICO_COMPLAINTS, min_length=1, max_length=300)


# Local development names a made-up operator and its machine, so every notice is complete.
DEVELOPMENT_CONTROLLER = PlatformController(
    legal_name="Praxis Demo Operator Ltd",
    address="1 Example Street, London N1 1AA",
    dpo_contact="privacy@praxis.example",
    ico_registration="ZB000000",
)
DEVELOPMENT_PROCESSORS = (
    InfrastructureProcessor(
        legal_name="This computer (local development hosting)",
        country="GB",
        transfer_safeguard="none needed: data stays in the UK",
        purpose="hosting the platform and its database",
        categories=("name", "email", "phone", "address", "appointment", "payment", "health"),
    ),
)


class Settings(BaseSettings):
    """Every variable is documented in README.md (Configuration)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    env: Environment = Field("production", validation_alias="PRAXIS_ENV")
    var_dir: Path = Field(Path("var"), validation_alias="PRAXIS_VAR_DIR")
    database_url: str = Field("", validation_alias="DATABASE_URL")
    migration_database_url: str = Field("", validation_alias="MIGRATION_DATABASE_URL")
    database_role: str = Field("praxis_app", validation_alias="DATABASE_ROLE")
    database_pool_size: int = Field(10, ge=1, le=200, validation_alias="DATABASE_POOL_SIZE")
    secret_key: SecretStr | None = Field(None, validation_alias="SECRET_KEY")
    ledger_signing_key: SecretStr | None = Field(None, validation_alias="LEDGER_SIGNING_KEY")
    ledger_signing_key_file: Path | None = Field(None, validation_alias="LEDGER_SIGNING_KEY_FILE")
    platform_domain: str = Field("localhost", validation_alias="PLATFORM_DOMAIN")
    session_idle_minutes: int = Field(30, ge=1, validation_alias="SESSION_IDLE_MINUTES")
    session_absolute_hours: int = Field(12, ge=1, validation_alias="SESSION_ABSOLUTE_HOURS")
    rate_limit_storage: str = Field("memory://", validation_alias="RATE_LIMIT_STORAGE")
    login_limit_per_account: str = Field("5/15 minutes", validation_alias="LOGIN_LIMIT_PER_ACCOUNT")
    login_limit_per_client: str = Field("30/minute", validation_alias="LOGIN_LIMIT_PER_CLIENT")
    # Failed sign-ins from one browser the account signed in with before, while the account
    # itself is locked: the owner still gets in, an attacker's failures cannot lock them out.
    login_limit_per_device: str = Field("5/15 minutes", validation_alias="LOGIN_LIMIT_PER_DEVICE")
    # Addresses of reverse proxies whose X-Forwarded-For / -Proto are believed (comma-separated
    # IPs or networks, or "*"); empty: none, the client is the peer that connected.
    forwarded_allow_ips: str = Field("", validation_alias="FORWARDED_ALLOW_IPS")
    staff_mfa_required: bool = Field(True, validation_alias="STAFF_MFA_REQUIRED")
    tenant_cache_ttl_seconds: float = Field(60.0, ge=0, validation_alias="TENANT_CACHE_TTL")
    tenant_cache_size: int = Field(20_000, ge=1, validation_alias="TENANT_CACHE_SIZE")
    # How long each process reuses the public directory it read (0: read on every search);
    # at most a minute, as the clinic admin's directory page promises.
    directory_cache_seconds: float = Field(
        30.0, ge=0, le=60, validation_alias="DIRECTORY_CACHE_SECONDS"
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, validation_alias="MAX_BODY_BYTES")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    log_format: Literal["json", "console"] = Field("json", validation_alias="LOG_FORMAT")
    worker_interval_seconds: float = Field(60.0, gt=0, validation_alias="WORKER_INTERVAL")
    outbox_poll_seconds: float = Field(1.0, gt=0, validation_alias="OUTBOX_POLL_SECONDS")
    worker_concurrency: int = Field(8, ge=1, le=100, validation_alias="WORKER_CONCURRENCY")
    outbox_max_attempts: int = Field(8, ge=1, le=50, validation_alias="OUTBOX_MAX_ATTEMPTS")
    outbox_backoff_seconds: float = Field(15.0, gt=0, validation_alias="OUTBOX_BACKOFF_SECONDS")
    outbox_backoff_cap_seconds: float = Field(
        3600.0, gt=0, validation_alias="OUTBOX_BACKOFF_CAP_SECONDS"
    )
    provider_timeout_seconds: float = Field(
        15.0, gt=0, le=120, validation_alias="PROVIDER_TIMEOUT_SECONDS"
    )
    provider_deadline_seconds: float | None = Field(
        None, gt=0, le=600, validation_alias="PROVIDER_DEADLINE_SECONDS"
    )
    outbound_allowed_hosts: str = Field("", validation_alias="OUTBOUND_ALLOWED_HOSTS")
    site_scheme: Literal["http", "https", ""] = Field("", validation_alias="SITE_SCHEME")
    site_port: int | None = Field(None, ge=1, le=65535, validation_alias="SITE_PORT")
    platform_controller: PlatformController | None = Field(
        None, validation_alias="PLATFORM_CONTROLLER"
    )
    platform_processors: tuple[InfrastructureProcessor, ...] = Field(
        (), validation_alias="PLATFORM_PROCESSORS"
    )
    # Operators' sign-in through an OpenID provider: all four or none (praxis.core.identity).
    platform_oidc_issuer: str = Field("", validation_alias="PLATFORM_OIDC_ISSUER")
    platform_oidc_client_id: str = Field("", validation_alias="PLATFORM_OIDC_CLIENT_ID")
    platform_oidc_client_secret: SecretStr | None = Field(
        None, validation_alias="PLATFORM_OIDC_CLIENT_SECRET"
    )
    platform_oidc_email_domain: str = Field("", validation_alias="PLATFORM_OIDC_EMAIL_DOMAIN")
    # The platform's own mail to operators (security alerts), through this SMTP relay:
    # smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 (TLS).
    # Unset off production: written to the development mailbox under PRAXIS_VAR_DIR.
    platform_smtp_url: SecretStr | None = Field(None, validation_alias="PLATFORM_SMTP_URL")
    platform_mail_from: str = Field("", validation_alias="PLATFORM_MAIL_FROM")

    @field_validator("platform_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        value = value.strip().lower().rstrip(".")
        if len(value) > 253 or not all(_HOST_LABEL.match(x) for x in value.split(".")):
            raise ValueError(
                "must be a bare host name such as praxis.example (no scheme, port or path)"
            )
        return value

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        for plain, driver in _DRIVERS.items():
            if value.startswith(plain):
                value = driver + value.removeprefix(plain)
        if value and not value.startswith(tuple(_DRIVERS.values())):
            raise ValueError(
                "use sqlite+aiosqlite:///path/to/praxis.db or "
                "postgresql+asyncpg://user:password@host/database"
            )
        return value

    @field_validator("database_role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value and not _ROLE_NAME.match(value):
            raise ValueError("must be a lower-case PostgreSQL role name such as praxis_app")
        return value

    @field_validator("login_limit_per_account", "login_limit_per_client", "login_limit_per_device")
    @classmethod
    def _rate(cls, value: str) -> str:
        value = value.strip()
        try:
            usable = bool(_RATE.match(value)) and limits.parse(value).amount >= 1
        except ValueError:
            usable = False
        if not usable:
            raise ValueError(
                "a rate limit reads like '5/15 minutes' or '30/minute' (at least 1 per "
                "second, minute, hour, day, month or year)"
            )
        return value

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def provider_deadline(self) -> float:
        """The most a plugin's call may take, all its requests together (twice the HTTP
        timeout unless set): past it the call counts as an answer lost, and is retried."""
        return self.provider_deadline_seconds or 2 * self.provider_timeout_seconds

    @property
    def outbound_allowed(self) -> str:
        """Inward hosts providers may be reached at: only those named, and in development
        (unless named) this machine, where the sandbox runs."""
        if self.outbound_allowed_hosts or not self.is_development:
            return self.outbound_allowed_hosts
        return "localhost,127.0.0.1,::1"

    @property
    def requires_tls(self) -> bool:
        """Connections to providers (SMTP too) must use TLS everywhere but local development."""
        return not self.is_development

    @property
    def allows_http_links(self) -> bool:
        """Links to a provider's pages may be plain http only off production: the local
        sandbox and the tests' fakes are served on 127.0.0.1 without TLS."""
        return self.env != "production"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure (and __Host- prefixed) everywhere but local dev and tests."""
        return self.env == "production"

    @property
    def migration_url(self) -> str:
        """Migrations run as the tables' owner; the app may connect as a lesser role."""
        return self.migration_database_url or self.database_url

    def site_url(self, slug: str | None = None) -> str:
        """The public address of a tenant's portal (or of the platform site), for links
        in messages and for the callbacks providers are given."""
        scheme = self.site_scheme or ("https" if self.env == "production" else "http")
        host = f"{slug}.{self.platform_domain}" if slug else self.platform_domain
        port = f":{self.site_port}" if self.site_port else ""
        return f"{scheme}://{host}{port}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    def ledger_key_text(self) -> str:
        """The ledger's signing key as written (PEM or base64); never logged or shown."""
        if self.ledger_signing_key is not None and self.ledger_signing_key.get_secret_value():
            return self.ledger_signing_key.get_secret_value()
        if self.ledger_signing_key_file is None:
            raise ConfigError("LEDGER_SIGNING_KEY_FILE is not set")
        try:
            return self.ledger_signing_key_file.read_text()
        except OSError as exc:
            raise ConfigError(
                f"LEDGER_SIGNING_KEY_FILE: cannot read {self.ledger_signing_key_file} "
                f"({exc.strerror or exc})."
            ) from None

    def secret(self) -> bytes:
        if self.secret_key is None:
            raise ConfigError("SECRET_KEY is not set")
        return self.secret_key.get_secret_value().encode()


def load_settings(**overrides: object) -> Settings:
    """Read the environment, fill local-only defaults, and fail fast on what is missing."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    updates: dict[str, object] = {}
    if not settings.database_url:
        updates["database_url"] = f"sqlite+aiosqlite:///{settings.var_dir / 'praxis.db'}"
    if settings.is_development and settings.platform_controller is None:
        updates["platform_controller"] = DEVELOPMENT_CONTROLLER
    if settings.is_development and not settings.platform_processors:
        updates["platform_processors"] = DEVELOPMENT_PROCESSORS
    if settings.secret_key is None:
        if settings.env == "production":
            raise ConfigError(
                "SECRET_KEY is not set. Production needs a random secret of at least 32 "
                "characters, e.g. SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'). For local use set PRAXIS_ENV=development."
            )
        updates["secret_key"] = SecretStr(_local_secret(settings.var_dir))
    elif len(settings.secret_key.get_secret_value()) < SECRET_MIN:
        raise ConfigError(f"SECRET_KEY is too short: use at least {SECRET_MIN} random characters.")
    if not _has_ledger_key(settings):
        if settings.env == "production":
            raise ConfigError(
                "LEDGER_SIGNING_KEY_FILE is not set. Production signs each clinic's ledger "
                "with an Ed25519 key kept outside the database: make one with 'openssl genpkey "
                "-algorithm ed25519 -out ledger-signing.pem', keep it from the database's "
                "backups, and set LEDGER_SIGNING_KEY_FILE to its path (or LEDGER_SIGNING_KEY "
                "to its text). For local use set PRAXIS_ENV=development."
            )
        updates["ledger_signing_key_file"] = _local_ledger_key(settings.var_dir)
    if updates:
        settings = settings.model_copy(update=updates)
    return settings


def _has_ledger_key(settings: Settings) -> bool:
    given = settings.ledger_signing_key
    return bool(given and given.get_secret_value()) or settings.ledger_signing_key_file is not None


def _local_ledger_key(var_dir: Path) -> Path:
    """Development and tests sign with a key generated once under var/ (32 random bytes)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "ledger_signing_key"
    if not path.exists():
        _write_once(path, base64.b64encode(secrets.token_bytes(32)).decode())
    return path


def _explain(exc: ValidationError) -> str:
    """One line per wrong variable, named as in the environment; values are never echoed."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in error["loc"])
        lines.append(f"{name}: {str(error['msg']).removeprefix('Value error, ')}")
    return "\n".join(lines)


def _local_secret(var_dir: Path) -> str:
    """Development and tests keep a generated secret under var/, readable only by its owner."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    if not path.exists():
        _write_once(path, secrets.token_urlsafe(48))
    value = path.read_text().strip()
    if len(value) < SECRET_MIN:
        raise ConfigError(
            f"{path} holds no usable secret: delete it and a new one is made "
            "(everyone signed in will have to sign in again)."
        )
    return value


def _write_once(path: Path, value: str) -> None:
    """Create ``path`` whole or not at all: two processes starting together share one secret."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        with contextlib.suppress(FileExistsError):  # another process won: use its secret
            os.link(draft, path)
    finally:
        draft.unlink()
