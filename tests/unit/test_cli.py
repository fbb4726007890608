"""The `praxis` command, run in process with click's CliRunner against a temp SQLite file."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import structlog
import uvicorn
from click.testing import CliRunner, Result

from praxis.core.accounts.passwords import Passwords
from praxis.core.cli import main, proxy_options
from praxis.core.config import Settings
from praxis.core.hookdocs import hook_reference

ROOT = Path(__file__).resolve().parents[2]
DEMO_FILE = ROOT / "tenants" / "examples" / "demo.toml"
PASSWORD = "correct-horse-battery"
CLINIC = """\
slug = "north"
name = "North Clinic"
domains = ["book.north.example"]

[controller]
legal_name = "North Clinic Ltd"
address = "1 High Street, Leeds LS1 1AA"
dpo_contact = "dpo@north.example"
ico_registration = "ZA123456"
"""


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same argon2id, test-sized cost: each command otherwise spends ~0.25 s per hash."""
    monkeypatch.setattr("praxis.core.runtime.Passwords", lambda cheap=False: Passwords(cheap=True))


@pytest.fixture(autouse=True)
def keep_logging_config() -> Iterator[None]:
    """`praxis worker` points structlog at the runner's stdout; put it back afterwards."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def base_env(var: Path) -> dict[str, str | None]:
    return {
        "PRAXIS_ENV": "development",
        "PRAXIS_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite+aiosqlite:///{var / 'praxis.db'}",
        "STAFF_MFA_REQUIRED": "false",
        "SECRET_KEY": None,
        "MIGRATION_DATABASE_URL": None,
        "DATABASE_ROLE": None,
        "PLATFORM_DOMAIN": None,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file, copied for each test that needs the schema."""
    var = tmp_path_factory.mktemp("migrated")
    result = CliRunner().invoke(main, ["db", "upgrade"], env=base_env(var))
    assert result.exit_code == 0, result.output
    return var / "praxis.db"


class Praxis:
    """Runs `praxis ...` with the environment of one test."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.env = base_env(var)
        self.runner = CliRunner()

    @property
    def database(self) -> Path:
        return self.var / "praxis.db"

    def __call__(self, *args: str, input: str | None = None, **env: str | None) -> Result:
        return self.runner.invoke(main, list(args), input=input, env={**self.env, **env})

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    def fails(self, *args: str, input: str | None = None, **env: str | None) -> str:
        result = self(*args, input=input, **env)
        assert result.exit_code != 0, result.output
        assert not isinstance(result.exception, AssertionError)
        assert "Traceback" not in result.output
        return result.output

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        with sqlite3.connect(self.database) as conn:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            return {name: conn.execute(f"SELECT * FROM {name}").fetchall() for name in names}

    def count(self, table: str) -> int:
        return len(self.rows()[table])


@pytest.fixture
def praxis(tmp_path: Path) -> Praxis:
    """A fresh, empty variable directory: no database yet."""
    return Praxis(tmp_path / "var")


@pytest.fixture
def ready(praxis: Praxis, migrated: Path) -> Praxis:
    """A migrated database."""
    praxis.var.mkdir(parents=True, exist_ok=True)
    shutil.copy(migrated, praxis.database)
    return praxis


@pytest.fixture
def with_clinic(ready: Praxis, tmp_path: Path) -> Praxis:
    path = tmp_path / "north.toml"
    path.write_text(CLINIC, encoding="utf-8")
    ready.ok("tenants", "add", str(path))
    return ready


# --- help ------------------------------------------------------------------------------------


def every_command() -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []

    def walk(path: list[str], command: click.Command) -> None:
        found.append((path, command))
        if isinstance(command, click.Group):
            for name, sub in sorted(command.commands.items()):
                walk([*path, name], sub)

    walk([], main)
    return found


COMMANDS = every_command()


def test_the_command_tree_is_complete() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {
        "serve",
        "worker",
        "db upgrade",
        "db downgrade",
        "tenants add",
        "tenants list",
        "users create",
        "demo",
        "plugins list",
        "plugins docs",
        "retention run",
    } <= paths


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "praxis" for p, _ in COMMANDS]
)
def test_every_help_says_what_the_command_is_for(
    praxis: Praxis, path: list[str], command: click.Command
) -> None:
    output = praxis.ok(*path, "--help")
    assert output.startswith(f"Usage: main {' '.join(path)}".rstrip() + " ") or output.startswith(
        "Usage: "
    )
    purpose = (command.help or "").strip().splitlines()[0]
    assert len(purpose) > 15 and purpose.endswith("."), f"{path}: no one-line purpose"
    assert purpose in " ".join(output.split())
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"
        if isinstance(param, click.Argument):
            assert param.human_readable_name in (command.help or ""), param.name
    assert not praxis.var.exists(), "--help must not create files"


def test_the_top_level_help_lists_every_command(praxis: Praxis) -> None:
    output = praxis.ok("--help")
    for name in ("serve", "worker", "db", "tenants", "users", "demo", "plugins"):
        assert f"  {name} " in output
    assert praxis.ok("-h") == output


def test_an_unknown_command_is_a_usage_error(praxis: Praxis) -> None:
    result = praxis("tenant")
    assert result.exit_code == 2
    assert "No such command 'tenant'" in result.output


# --- db --------------------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema(praxis: Praxis) -> None:
    assert praxis.ok("db", "upgrade") == "Database is at head.\n"
    assert {"tenants", "users", "appointments", "alembic_version"} <= set(praxis.rows())
    assert praxis.ok("db", "upgrade") == "Database is at head.\n"


def test_db_downgrade_to_base(ready: Praxis) -> None:
    assert ready.ok("db", "downgrade", "base") == "Database is at base.\n"
    assert set(ready.rows()) == {"alembic_version"}


def test_db_downgrade_needs_a_revision(ready: Praxis) -> None:
    result = ready("db", "downgrade")
    assert result.exit_code == 2
    assert "Missing argument 'REVISION'" in result.output


def test_commands_before_db_upgrade_say_what_to_do(praxis: Praxis) -> None:
    output = praxis.fails("tenants", "list")
    assert "praxis db upgrade" in output


def test_an_unreachable_database_is_a_clear_error(praxis: Praxis) -> None:
    url = "postgresql+asyncpg://praxis:hunter2-secret@127.0.0.1:1/praxis"
    output = praxis.fails("db", "upgrade", DATABASE_URL=url)
    assert "database" in output.lower()
    assert "hunter2-secret" not in output


# --- tenants ---------------------------------------------------------------------------------


def test_tenants_add_then_again(ready: Praxis, tmp_path: Path) -> None:
    path = tmp_path / "north.toml"
    path.write_text(CLINIC, encoding="utf-8")
    assert ready.ok("tenants", "add", str(path)) == (
        "created: north (North Clinic) at north.localhost\n"
    )
    before = ready.rows()
    output = ready.fails("tenants", "add", str(path))
    assert f"{path}: slug: a tenant called 'north' already exists" in output
    assert ready.ok("tenants", "add", "--update", str(path)) == (
        "unchanged: north (North Clinic) at north.localhost\n"
    )
    assert ready.rows() == before


def test_tenants_add_update_changes_what_changed(ready: Praxis, tmp_path: Path) -> None:
    path = tmp_path / "north.toml"
    path.write_text(CLINIC, encoding="utf-8")
    ready.ok("tenants", "add", str(path))
    path.write_text(CLINIC.replace('name = "North Clinic"', 'name = "Northern Clinic"'))
    assert ready.ok("tenants", "add", "--update", str(path)).startswith("updated: north")
    path.write_text(CLINIC.replace('domains = ["book.north.example"]', "domains = []"))
    assert ready.ok("tenants", "add", "--update", str(path)).startswith("updated: north")
    assert ready.count("tenant_domains") == 0


def test_tenants_add_a_bad_file_names_the_file_and_field(ready: Praxis, tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(CLINIC + '\n[branding]\nprimary_colour = "green"\n', encoding="utf-8")
    output = ready.fails("tenants", "add", str(path))
    assert f"{path}: branding.primary_colour: must be a colour like #0b6e4f, not 'green'" in output
    assert ready.count("tenants") == 0


def test_tenants_add_a_missing_file(ready: Praxis, tmp_path: Path) -> None:
    output = ready.fails("tenants", "add", str(tmp_path / "nope.toml"))
    assert "nope.toml: no such file" in output


def test_tenants_add_a_domain_someone_else_has(with_clinic: Praxis, tmp_path: Path) -> None:
    other = tmp_path / "south.toml"
    other.write_text(CLINIC.replace('slug = "north"', 'slug = "south"'), encoding="utf-8")
    output = with_clinic.fails("tenants", "add", str(other))
    assert "domains: book.north.example already belongs to another tenant" in output
    assert with_clinic.count("tenants") == 1


def test_tenants_add_a_domain_under_the_platform(ready: Praxis, tmp_path: Path) -> None:
    path = tmp_path / "north.toml"
    path.write_text(CLINIC.replace("book.north.example", "north.localhost"), encoding="utf-8")
    output = ready.fails("tenants", "add", str(path))
    assert "domains: north.localhost is under the platform domain" in output


def test_tenants_list(ready: Praxis, tmp_path: Path) -> None:
    assert ready.ok("tenants", "list") == (
        "No tenants yet. Add one with: praxis tenants add FILE.toml\n"
    )
    path = tmp_path / "north.toml"
    path.write_text(CLINIC, encoding="utf-8")
    ready.ok("tenants", "add", str(path))
    ready.ok("tenants", "add", str(DEMO_FILE))
    lines = ready.ok("tenants", "list").splitlines()
    assert [line.split()[:2] for line in lines] == [["demo", "active"], ["north", "active"]]
    assert lines[1].endswith("North Clinic")


# --- demo ------------------------------------------------------------------------------------


def test_demo_loads_and_is_idempotent(ready: Praxis) -> None:
    output = ready.ok("demo")
    assert "Demo clinic loaded." in output
    for username in ("alex", "dr.rivera", "admin", "operator"):
        assert username in output
    assert "http://demo.localhost:8000" in output
    first = ready.rows()
    assert len(first["tenants"]) == 1
    assert len(first["users"]) == 3
    assert len(first["operators"]) == 1
    assert len(first["professionals"]) == 1
    assert len(first["weekly_availability"]) == 5
    assert len(first["consultation_types"]) == 3
    assert ready.ok("demo", "--port", "9000") == output.replace(":8000", ":9000")
    second = ready.rows()
    assert {name: len(rows) for name, rows in second.items()} == {
        name: len(rows) for name, rows in first.items()
    }
    assert second["tenants"] == first["tenants"]
    assert second["users"] == first["users"]


def test_demo_after_the_demo_tenant_was_added_by_hand(ready: Praxis) -> None:
    ready.ok("tenants", "add", str(DEMO_FILE))
    ready.ok("demo")
    assert ready.count("tenants") == 1
    assert _listing(ready) == (0, "")  # a clinic added by file has not opted in


def _listing(ready: Praxis) -> tuple[int, str]:
    with sqlite3.connect(ready.database) as conn:
        row = conn.execute("SELECT listed, town FROM tenants WHERE slug = 'demo'").fetchone()
    return row[0], row[1]


def test_the_demo_clinic_is_in_the_public_directory_until_its_admin_opts_out(
    ready: Praxis,
) -> None:
    ready.ok("demo")
    assert _listing(ready) == (1, "London")
    with sqlite3.connect(ready.database) as conn:
        conn.execute("UPDATE tenants SET listed = 0 WHERE slug = 'demo'")  # /admin/directory
    ready.ok("demo")
    assert _listing(ready) == (0, "London")


def test_demo_is_refused_in_production(ready: Praxis) -> None:
    secret = "production-secret-key-that-is-long-enough-0123"
    key = "a2V5LWZvci1zaWduaW5nLXRoZS1sZWRnZXItMzJieXQ="  # a ledger signing key, base64
    output = ready.fails("demo", PRAXIS_ENV="production", SECRET_KEY=secret, LEDGER_SIGNING_KEY=key)
    assert "The demo is for local use: set PRAXIS_ENV=development." in output
    assert ready.count("tenants") == 0


def test_production_without_the_platforms_mail_relay_will_not_start(ready: Praxis) -> None:
    secret = "production-secret-key-that-is-long-enough-0123"
    key = "a2V5LWZvci1zaWduaW5nLXRoZS1sZWRnZXItMzJieXQ="  # a ledger signing key, base64
    output = ready.fails(
        "tenants", "list", PRAXIS_ENV="production", SECRET_KEY=secret, LEDGER_SIGNING_KEY=key
    )
    assert "PLATFORM_SMTP_URL is not set." in output and "Traceback" not in output


def test_production_without_a_secret_names_it(ready: Praxis) -> None:
    output = ready.fails("tenants", "list", PRAXIS_ENV="production")
    assert "SECRET_KEY is not set" in output


def test_bad_settings_are_reported_plainly(ready: Praxis) -> None:
    output = ready.fails("tenants", "list", PLATFORM_DOMAIN="http://praxis.example")
    assert "PLATFORM_DOMAIN: must be a bare host name" in output


@pytest.mark.parametrize("command", [("serve",), ("worker", "--once")])
def test_operators_sign_in_half_set_up_is_reported_plainly(
    ready: Praxis, command: tuple[str, ...]
) -> None:
    secret = "platform-client-secret-0123456789"
    output = ready.fails(
        *command,
        PLATFORM_OIDC_ISSUER="https://login.example.org",
        PLATFORM_OIDC_CLIENT_SECRET=secret,
    )
    assert "PLATFORM_OIDC_CLIENT_ID, PLATFORM_OIDC_EMAIL_DOMAIN are not set" in output
    assert secret not in output


# --- users -----------------------------------------------------------------------------------

PERSON = [
    "--full-name",
    "Sam Example",
    "--email",
    "sam@example.org",
    "--phone",
    "07911 123456",
    "--address-line1",
    "1 High Street",
    "--town",
    "Leeds",
    "--postcode",
    "ls11aa",
]


def create(praxis: Praxis, *args: str, password: str = PASSWORD) -> Result:
    return praxis("users", "create", "--password-stdin", *args, input=password + "\n")


def test_users_create_a_consumer(with_clinic: Praxis) -> None:
    result = create(
        with_clinic, "--role", "consumer", "--tenant", "north", "--username", "Sam", *PERSON
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Created consumer sam at north.\n"
    [user] = with_clinic.rows()["users"]
    assert "sam" in user and "consumer" in user and "+447911123456" in user and "LS1 1AA" in user
    assert PASSWORD not in repr(user)


def test_users_create_a_professional(with_clinic: Praxis) -> None:
    result = create(
        with_clinic,
        "--role",
        "professional",
        "--tenant",
        "north",
        "--username",
        "dr.sam",
        *PERSON,
        "--qualifications",
        "MBBS",
        "--field-of-practice",
        "General practice",
        "--approved",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Created professional dr.sam at north.\n"
    [profile] = with_clinic.rows()["professionals"]
    assert "approved" in profile


def test_users_create_a_professional_needs_qualifications(with_clinic: Praxis) -> None:
    args = ["--role", "professional", "--tenant", "north", "--username", "dr.sam", *PERSON]
    result = create(with_clinic, *args)
    assert result.exit_code == 1
    assert "--qualifications: This field is required." in result.output
    assert "--field-of-practice: This field is required." in result.output
    assert with_clinic.count("users") == 0


def test_users_create_a_clinic_admin(with_clinic: Praxis) -> None:
    args = ["--role", "clinic_admin", "--tenant", "north", "--username", "boss", *PERSON]
    result = create(with_clinic, *args)
    assert result.exit_code == 0, result.output
    assert result.output == "Created clinic_admin boss at north.\n"


def test_users_create_an_operator(ready: Praxis) -> None:
    args = ["--role", "operator", "--username", "Ops", "--full-name", "Ops Person"]
    result = create(ready, *args, "--email", "ops@example.org")
    assert result.exit_code == 0, result.output
    assert result.output == "Created platform operator ops.\n"
    assert ready.count("operators") == 1
    again = create(ready, *args, "--email", "ops@example.org")
    assert again.exit_code == 1
    assert "username: That username is taken; choose another." in again.output


def test_users_create_asks_for_the_password_twice(with_clinic: Praxis) -> None:
    args = ["users", "create", "--role", "consumer", "--tenant", "north", "--username", "sam"]
    result = with_clinic(*args, *PERSON, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    ("args", "password", "expected"),
    [
        (["--phone", "12"], PASSWORD, "--phone: That phone number is not valid"),
        (["--postcode", "nowhere"], PASSWORD, "--postcode: Enter a UK postcode, like SW1A 1AA."),
        (["--email", "sam"], PASSWORD, "--email: Enter an email address like name@example.com."),
        (["--username", "x"], PASSWORD, "--username: Use 3 to 32 characters"),
        ([], "short", "password: Use at least 10 characters."),
        ([], "", "password: This field is required."),
    ],
)
def test_users_create_bad_input(
    with_clinic: Praxis, args: list[str], password: str, expected: str
) -> None:
    base = ["--role", "consumer", "--tenant", "north", "--username", "sam", *PERSON]
    result = create(with_clinic, *base, *args, password=password)
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "nothing was saved" in result.output
    assert with_clinic.count("users") == 0


def test_users_create_at_an_unknown_clinic(ready: Praxis) -> None:
    result = create(
        ready, "--role", "consumer", "--tenant", "nowhere", "--username", "sam", *PERSON
    )
    assert result.exit_code == 1
    assert "--tenant: no clinic has the slug 'nowhere'" in result.output


def test_users_create_without_a_tenant(ready: Praxis) -> None:
    result = create(ready, "--role", "consumer", "--username", "sam", *PERSON)
    assert result.exit_code == 2
    assert "--tenant is required for every role but operator" in result.output


def test_users_create_a_taken_username(with_clinic: Praxis) -> None:
    base = ["--role", "consumer", "--tenant", "north", "--username", "sam", *PERSON]
    assert create(with_clinic, *base).exit_code == 0
    result = create(with_clinic, *base)
    assert result.exit_code == 1
    assert "--username: That username is taken; choose another." in result.output
    assert with_clinic.count("users") == 1


def test_users_create_an_unknown_role(ready: Praxis) -> None:
    result = create(ready, "--role", "superuser", "--username", "x", *PERSON)
    assert result.exit_code == 2
    assert "'superuser' is not one of" in result.output


def test_users_create_a_bad_operator(ready: Praxis) -> None:
    result = create(
        ready, "--role", "operator", "--username", "o", "--full-name", "", "--email", "nope"
    )
    assert result.exit_code == 1
    assert "--username: Use 3 to 32 characters" in result.output
    assert "--email: Enter an email address like name@example.com." in result.output
    assert "--full-name: This field is required." in result.output
    assert ready.count("operators") == 0


# --- worker and plugins ----------------------------------------------------------------------


def test_worker_once_runs(with_clinic: Praxis) -> None:
    result = with_clinic("worker", "--once", LOG_LEVEL="INFO")
    assert result.exit_code == 0, (result.output, result.exception)
    assert '"event": "scans"' in result.output
    assert '"event": "outbox"' in result.output
    assert '"tenants": 1' in result.output


def test_plugins_list(praxis: Praxis) -> None:
    lines = praxis.ok("plugins", "list").splitlines()
    names = [line.split()[0] for line in lines]
    assert names == [
        "email_smtp",
        "payments_stripe",
        "questionnaires",
        "sms_twilio",
        "video_whereby",
    ]
    assert "(stays on platform)" in lines[names.index("questionnaires")]


def test_plugins_docs_writes_the_hook_reference(praxis: Praxis, tmp_path: Path) -> None:
    output = tmp_path / "hooks.md"
    assert praxis.ok("plugins", "docs", "--output", str(output)) == f"Wrote {output}\n"
    assert output.read_text(encoding="utf-8") == hook_reference()


# --- providers and plugins -------------------------------------------------------------------


def test_providers_set_changes_one_field_and_keeps_the_rest(with_clinic: Praxis) -> None:
    first = with_clinic.ok(
        "providers",
        "set",
        "--tenant",
        "north",
        "sms_twilio",
        "account_sid=AC" + "1" * 32,
        "auth_token=" + "a" * 32,
        "from_number=+447700900123",
    )
    assert first.startswith("north: sms now provided by sms_twilio (3 settings set, 0 kept).")
    assert "TENANT_CACHE_TTL" in first
    changed = with_clinic.ok(
        "providers", "set", "--tenant", "north", "sms_twilio", "from_number=+447700900456"
    )
    assert "(1 settings set, 2 kept)" in changed  # the SID and token were not asked again
    [row] = with_clinic.rows()["provider_settings"]
    assert "+447700900456" in str(row) and "a" * 32 not in str(row)  # the token stays sealed
    wrong = with_clinic.fails(
        "providers", "set", "--tenant", "north", "sms_twilio", "from_number=07700"
    )
    assert "from_number" in wrong and "settings not valid" in wrong


def test_plugins_list_and_check_name_a_plugin_that_cannot_load(
    ready: Praxis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib.metadata import EntryPoint

    from praxis.core.plugins import loader

    installed = loader._entry_points()
    broken = EntryPoint(name="video_gone", value="praxis_no_such_module", group="praxis")
    monkeypatch.setattr(loader, "_entry_points", lambda: [*installed, broken])
    listed = ready.ok("plugins", "list")
    assert "sms_twilio" in listed and "video_whereby" in listed  # the others load as usual
    assert "video_gone" in listed and "DISABLED" in listed and "cannot be loaded" in listed
    result = ready("plugins", "check")
    assert result.exit_code == 1
    assert "sms_twilio           ok: offers erase_message\n" in result.output  # optional (1.2)
    assert (
        "video_gone" in result.output and "No module named 'praxis_no_such_module'" in result.output
    )
    assert "Traceback" not in result.output


# --- retention -------------------------------------------------------------------------------


@pytest.mark.promise("P28")
def test_retention_run_prints_what_it_removes_and_a_dry_run_changes_nothing(
    with_clinic: Praxis,
) -> None:
    dry = with_clinic.ok("retention", "run", "--dry-run")
    assert "north: would remove 0 records" in dry
    assert "closed accounts erased: 0" in dry
    assert with_clinic.count("ledger_events") == 0  # a dry run writes nothing
    real = with_clinic.ok("retention", "run", "--tenant", "north")
    assert "north: removed 0 records" in real
    assert "billing records past their retention: 0" in real
    assert with_clinic.count("ledger_events") == 1  # the run's summary
    assert "north: removed 0 records" in with_clinic.ok("retention", "run")  # idempotent


def test_retention_run_for_an_unknown_clinic_is_a_usage_error(with_clinic: Praxis) -> None:
    result = with_clinic("retention", "run", "--tenant", "nowhere")
    assert result.exit_code == 2
    assert "There is no clinic with the slug 'nowhere'" in result.output


async def _client_seen(settings: Settings, peer: str, forwarded: str) -> str:
    """What client address the app sees behind uvicorn, as `praxis serve` configures it."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    config = uvicorn.Config(app, **proxy_options(settings))
    config.load()
    scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 5000),
        "headers": [(b"x-forwarded-for", forwarded.encode())],
    }
    await config.loaded_app(scope, None, None)
    return seen[0]


@pytest.mark.promise("P16")
async def test_forwarded_addresses_are_believed_only_from_the_proxies_named() -> None:
    # By default none: a client on the same machine cannot pose as 32 other addresses.
    plain = Settings(FORWARDED_ALLOW_IPS="")
    assert await _client_seen(plain, "127.0.0.1", "203.0.113.5") == "127.0.0.1"
    behind = Settings(FORWARDED_ALLOW_IPS="10.0.0.2")
    assert await _client_seen(behind, "10.0.0.2", "203.0.113.5") == "203.0.113.5"
    assert await _client_seen(behind, "10.0.0.9", "203.0.113.5") == "10.0.0.9"
