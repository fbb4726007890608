"""The `praxis` command: serve, worker, db, tenants, users, demo, plugins, audit, retention."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import DBAPIError

from praxis.core.config import ConfigError, Settings, load_settings
from praxis.core.errors import InvalidInput

T = TypeVar("T")
NO_SCHEMA = ("no such table", "does not exist")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """Database failures become one sentence: no traceback, no URL, no SQL parameters."""
    try:
        yield
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        if any(words in reason for words in NO_SCHEMA):
            raise click.ClickException(
                f"The database has no Praxis tables yet ({reason}): run `praxis db upgrade` first."
            ) from None
        raise click.ClickException(f"The database refused: {reason}") from None
    except OSError as exc:
        raise click.ClickException(
            f"Cannot reach the database named by DATABASE_URL: {exc.strerror or exc}"
        ) from None
    except ConfigError as exc:  # e.g. a database user row-level security cannot bind
        raise click.ClickException(str(exc)) from None


def _check_database_role(settings: Settings) -> None:
    """Before serving or working: production refuses a database user that could undo
    row-level security (praxis.core.tenancy.role)."""
    from praxis.core.db import create_engine
    from praxis.core.tenancy import Database
    from praxis.core.tenancy.role import check_database_role

    async def check() -> None:
        database = Database(create_engine(settings))
        try:
            await check_database_role(database, settings)
        finally:
            await database.dispose()

    with _database_errors():
        asyncio.run(check())


def _with_runtime(work: Callable[[Any], Awaitable[T]]) -> T:
    from praxis.core.runtime import build_runtime

    async def run() -> T:
        runtime = build_runtime(_settings())
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    with _database_errors():
        return asyncio.run(run())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Praxis: a multi-tenant practice platform for health and wellness professionals.

    Settings come from environment variables (see README.md, Configuration).
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--worker/--no-worker",
    "in_process_worker",
    default=None,
    help="Run background work in this process (default: yes on SQLite, no on PostgreSQL).",
)
def serve(host: str, port: int, in_process_worker: bool | None) -> None:
    """Serve the web application with uvicorn (uvloop and httptools)."""
    import uvicorn

    from praxis.core.app import create_app
    from praxis.core.web.server import ClinicHttpProtocol

    settings = _settings()
    _check_database_role(settings)
    run_worker = (not settings.is_postgres) if in_process_worker is None else in_process_worker
    with _database_errors():  # a setting only the runtime checks is reported as plainly
        app = create_app(settings, run_worker=run_worker)
    shown = f":{port}" if port != 80 else ""
    click.echo(f"Praxis is serving on http://{host}:{port}")
    click.echo(f"  clinic portals:  http://<clinic>.{settings.platform_domain}{shown}")
    click.echo(f"  platform admin:  http://{settings.platform_domain}{shown}/platform")
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=ClinicHttpProtocol,  # httptools, keeping an absolute request line's host
        access_log=False,  # our own access log carries ids, never client addresses
        log_level="warning",
        **proxy_options(settings),
    )


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Forwarded headers are believed only from the proxies FORWARDED_ALLOW_IPS names: with
    none, a client cannot pose as another address (and dodge sign-in throttling) by sending
    X-Forwarded-For. uvicorn's own default would trust 127.0.0.1."""
    allowed = settings.forwarded_allow_ips.strip()
    if not allowed:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": allowed}


@main.command()
@click.option("--once", is_flag=True, help="One scan, then the outbox until nothing is due.")
def worker(once: bool) -> None:
    """Run background work: the outbox, reminders, unpaid holds and session clean-up.

    The outbox sends messages, creates video rooms and makes refunds; the periodic scans
    queue reminders, release unpaid holds and end expired sessions. Several workers may
    run side by side on PostgreSQL."""
    from praxis.core import worker as background
    from praxis.core.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _check_database_role(settings)
    if once:
        _with_runtime(background.run_once)
        return

    async def forever(runtime: Any) -> None:
        await background.run_forever(runtime, asyncio.Event())

    _with_runtime(forever)


@main.group()
def db() -> None:
    """Database schema migrations (alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the latest)."""
    from praxis.core import migrate

    settings = _settings()
    with _database_errors():
        migrate.upgrade(settings, revision)
    click.echo(f"Database is at {revision}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ('base' removes every table)."""
    from praxis.core import migrate

    settings = _settings()
    with _database_errors():
        migrate.downgrade(settings, revision)
    click.echo(f"Database is at {revision}.")


@main.group()
def tenants() -> None:
    """Clinics (tenants) on this platform."""


@tenants.command("add")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--update", is_flag=True, help="Bring an existing tenant in line with the file.")
def tenants_add(file: Path, update: bool) -> None:
    """Onboard a clinic from a TOML FILE (see tenants/examples/demo.toml)."""
    from praxis.core.clinics.onboarding import onboard
    from praxis.tenants.onboarding import TenantFileError, read_tenant_file
    from praxis.tenants.services import TenantConflict

    try:
        spec = read_tenant_file(file)
    except TenantFileError as exc:
        raise click.ClickException(str(exc)) from None

    async def add(runtime: Any) -> str:
        done = await onboard(
            runtime.database,
            spec,
            platform_domain=runtime.settings.platform_domain,
            invited_by="command line",
            update=update,
        )
        tenant = done.tenant
        host = f"{tenant.slug}.{runtime.settings.platform_domain}"
        invited = "; invitation emailed to the first admin" if done.invited else ""
        return f"{done.outcome}: {tenant.slug} ({tenant.name}) at {host}{invited}"

    try:
        click.echo(_with_runtime(add))
    except TenantConflict as exc:
        raise click.ClickException(f"{file}: {exc}") from None


@tenants.command("list")
def tenants_list() -> None:
    """List every tenant: slug, name, status."""
    from praxis.tenants.services import list_tenants

    async def listing(runtime: Any) -> list[Any]:
        async with runtime.database.reading() as session:
            return await list_tenants(session)

    rows = _with_runtime(listing)
    if not rows:
        click.echo("No tenants yet. Add one with: praxis tenants add FILE.toml")
    for tenant in rows:
        click.echo(f"{tenant.slug:<24} {tenant.status:<10} {tenant.name}")


ROLES = ("consumer", "professional", "clinic_admin", "operator")


@main.group()
def users() -> None:
    """Accounts: consumers, Professionals, clinic admins and platform operators."""


@users.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account is for.")
@click.option("--tenant", "slug", help="The clinic's slug (not for operators).")
@click.option("--username", required=True, help="3 to 32 lower-case letters, digits, . _ -")
@click.option("--full-name", required=True, help="The person's name, as others will see it.")
@click.option("--email", required=True, help="Their email address.")
@click.option("--phone", help="Mobile number (not for operators).")
@click.option("--address-line1", help="Not for operators.")
@click.option("--town", help="Not for operators.")
@click.option("--postcode", help="Not for operators.")
@click.option("--qualifications", help="Professionals only.")
@click.option("--field-of-practice", help="Professionals only.")
@click.option("--approved", is_flag=True, help="Professionals only: approve at once.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(role: str, slug: str | None, password_stdin: bool, **fields: Any) -> None:
    """Create an account. The password is asked for (or read with --password-stdin)."""
    from praxis.core.accounts.provisioning import create_account

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if role != "operator" and not slug:
        raise click.UsageError("--tenant is required for every role but operator")
    try:
        message = _with_runtime(
            lambda runtime: create_account(
                runtime.database, runtime.passwords, role, slug, password, fields
            )
        )
    except InvalidInput as exc:
        lines = [f"  {_option_for(name)}: {text}" for name, text in exc.fields.items()]
        raise click.ClickException("\n".join([exc.message, *lines])) from None
    click.echo(message)


def _option_for(field: str) -> str:
    """Name a form field as the option that sets it (``address_line1`` -> ``--address-line1``)."""
    option = "--" + field.replace("_", "-")
    known = {opt for param in users_create.params for opt in param.opts}
    return option if option in known else field


@main.command()
@click.option("--port", default=8000, show_default=True, help="Port the URLs should show.")
def demo(port: int) -> None:
    """Load the demo clinic and its demo accounts (development only; idempotent)."""
    from praxis.core.demo import load_demo

    settings = _settings()
    if settings.env == "production":
        raise click.ClickException("The demo is for local use: set PRAXIS_ENV=development.")
    logins = _with_runtime(lambda runtime: load_demo(runtime, port=port))
    click.echo("Demo clinic loaded. Sign in with (local demo only):")
    for login in logins:
        click.echo(f"  {login.who:<18} {login.username:<10} {login.password:<24} {login.where}")


@main.group()
def plugins() -> None:
    """Installed provider plugins."""


@plugins.command("list")
def plugins_list() -> None:
    """Every installed plugin: name, kind, version and processor, or why it is disabled."""
    from praxis.core.plugins import load_plugins

    loaded = load_plugins()
    for manifest in loaded.manifests.values():
        processor = manifest.processor.legal_name if manifest.processor else "(stays on platform)"
        click.echo(f"{manifest.name:<20} {manifest.kind:<15} {manifest.version:<10} {processor}")
    for disabled in loaded.disabled.values():
        click.echo(f"{disabled.name:<20} {disabled.kind or '?':<15} DISABLED   {disabled.reason}")


@plugins.command("check")
def plugins_check() -> None:
    """Check every installed plugin as the platform does at start-up.

    The conformance kit's rules, the plugin API version and the manifest: exits 1 if any
    plugin is disabled, naming why. Says which optional operations each plugin offers.
    """
    from praxis.core.plugins import load_plugins
    from praxis.core.providers.conformance import offered
    from praxis.core.providers.kinds import KINDS

    loaded = load_plugins()
    for name, manifest in loaded.manifests.items():
        kind = KINDS[manifest.kind]
        has = offered(kind, loaded.factories.get(name))
        left = [op.name for op in kind.optional if op.name not in has]
        notes = []
        if has:
            notes.append(f"offers {', '.join(has)}")
        if left:
            notes.append(f"leaves out {', '.join(left)} (optional)")
        click.echo(f"{name:<20} ok" + (f": {'; '.join(notes)}" if notes else ""))
    for disabled in loaded.disabled.values():
        click.echo(f"{disabled.name:<20} DISABLED: {disabled.reason}")
    if loaded.disabled:
        sys.exit(1)


@plugins.command("new")
@click.argument("kind")
@click.argument("name")
@click.option(
    "--dest",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="The folder to write the new package's folder into.",
)
def plugins_new(kind: str, name: str, dest: Path) -> None:
    """Start a plugin: an installable package for a provider of KIND, named NAME.

    KIND is one of the kinds of provider (video, payments, sms, email, questionnaires);
    NAME is the plugin's name as its manifest gives it, lower_snake_case (video_lumen).
    Writes DEST/praxis-NAME/ (never over an existing folder): pyproject.toml with the entry
    point, the manifest, settings, a provider with every method of the kind's Protocol, a
    fake of the service, tests using praxis.core.testing, and a README. Its tests pass as
    written; replace each TODO with what your service does.
    """
    from praxis.core.plugins.scaffold import ScaffoldError, check_kind, check_name, new_plugin

    for check, value, hint in ((check_kind, kind, "KIND"), (check_name, name, "NAME")):
        try:
            check(value)
        except ScaffoldError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    try:
        made = new_plugin(kind, name, dest)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"Could not write {dest}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {made.root} ({len(made.files)} files): a {kind} plugin named {name}.")
    click.echo("Next, in the environment Praxis is installed in:")
    click.echo(f"  cd {made.root}")
    click.echo("  pip install -e .          # the platform now finds it (praxis plugins list)")
    click.echo("  python -m pytest          # its tests pass as written")
    click.echo("Then replace each TODO (grep -rn TODO .) with what your service does, keeping")
    click.echo("the tests passing. README.md says how to try it in the demo clinic.")


@plugins.command("docs")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=Path("docs/hooks.md"),
    show_default=True,
    help="Where to write the reference.",
)
def plugins_docs(output: Path) -> None:
    """Write the hook reference (docs/hooks.md) from core/hookspecs.py."""
    from praxis.core.hookdocs import hook_reference

    output.write_text(hook_reference(), encoding="utf-8")
    click.echo(f"Wrote {output}")


@main.group()
def audit() -> None:
    """The disclosure ledger's tamper evidence."""


@audit.command("verify")
@click.option("--tenant", "slug", help="Only this clinic (default: every clinic).")
@click.option(
    "--file",
    "export",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify a clinic's ledger download (JSON) instead, with no database.",
)
@click.option(
    "--public-key",
    "pinned",
    help="With --file: the key (base64) the download's checkpoints must be signed with.",
)
def audit_verify(slug: str | None, export: Path | None, pinned: str | None) -> None:
    """Check each clinic's ledger chain and its signed checkpoints, then sign its head.

    Reports OK, or the first edited, deleted or moved entry, a rewound or missing head, or a
    missing or altered checkpoint; exits 1 when anything is broken.
    """
    if export is not None:
        _verify_export(export, pinned)
        return
    from praxis.core.ledger.checkpoints import sign
    from praxis.core.ledger.verify import verify
    from praxis.tenants.services import list_tenants

    async def check(runtime: Any) -> list[tuple[str, Any, Any]]:
        async with runtime.database.reading() as db:
            found = [t for t in await list_tenants(db) if slug in (None, t.slug)]
        if slug and not found:
            # A usage error (exit 2): exit 1 means a broken chain to whatever watches this.
            raise click.BadParameter(
                f"There is no clinic with the slug {slug!r}.", param_hint="--tenant"
            )
        key = runtime.ledger_key
        verdicts = []
        for tenant in found:
            async with runtime.database.reading(tenant.id) as db:
                verdict = await verify(db, tenant.id, key.public)
            mark = None
            if verdict.ok and verdict.entries:  # only what was just verified is signed
                async with runtime.database.writing(tenant.id) as db:
                    mark = await sign(db, key, seq=verdict.entries, digest=verdict.last_hash)
                    await db.commit()
            verdicts.append((tenant.slug, verdict, mark))
        return verdicts

    broken = False
    for name, verdict, mark in _with_runtime(check):
        if verdict.ok:
            signed = f"; checkpoint {mark.number} signed" if mark else ""
            click.echo(f"OK      {name}: {verdict.entries} entries, chain intact{signed}")
        else:
            broken = True
            click.echo(f"BROKEN  {name}: {verdict.broken.describe()}")
    if broken:
        sys.exit(1)


def _verify_export(path: Path, pinned: str | None) -> None:
    """A ledger download checked on its own: no settings, no database, no signing key."""
    from praxis.core.ledger.offline import UnreadableExport, verify_export
    from praxis.core.ledger.signing import PublicKey, SigningKeyError

    try:
        expected = PublicKey.from_text(pinned) if pinned else None
    except SigningKeyError as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key") from None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        checked = verify_export(document, pinned=expected)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise click.BadParameter("the file is not JSON", param_hint="--file") from None
    except UnreadableExport as exc:
        raise click.BadParameter(str(exc), param_hint="--file") from None
    name = str(document.get("tenant", path.name))
    verdict = checked.verdict
    if verdict.broken is not None:
        click.echo(f"BROKEN  {name}: {verdict.broken.describe()}")
        sys.exit(1)
    click.echo(
        f"OK      {name}: {verdict.entries} entries, chain intact, "
        f"{verdict.checkpoints} signed checkpoints verify with key {checked.key_id}"
    )


@main.group()
def retention() -> None:
    """Deleting what the clinics' retention periods no longer allow to keep."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; change nothing.")
@click.option("--tenant", "slug", help="Only this clinic (default: every active clinic).")
def retention_run(dry_run: bool, slug: str | None) -> None:
    """Delete what each clinic's retention periods no longer allow it to keep.

    Erases accounts closed longer than retention.closed_account_months, deletes billing
    records older than retention.billing_years and erased accounts nothing refers to any
    more. Legal holds pause it. Purges clinics that left retention.tenant_exit_months ago:
    every row, the ledger and the data key. Prints what it removes; idempotent; the worker
    runs it daily.
    """
    from praxis.core.db import utcnow
    from praxis.core.privacy import exit as clinic_exit
    from praxis.core.privacy import retention as schedule
    from praxis.tenants.directory import TenantInfo
    from praxis.tenants.services import list_tenants

    async def work(runtime: Any) -> list[Any]:
        async with runtime.database.reading() as db:
            rows = [t for t in await list_tenants(db) if slug in (None, t.slug)]
            found = [TenantInfo.from_row(t) for t in rows if t.status == "active"]
        if slug and not rows:
            raise click.BadParameter(
                f"There is no clinic with the slug {slug!r}.", param_hint="--tenant"
            )
        now = utcnow()
        reports: list[Any] = []
        for tenant in found:
            async with runtime.database.writing(tenant.id) as db:
                reports.append(await schedule.run(db, tenant, now=now, dry_run=dry_run))
        # Clinics that left tenant_exit_months ago: every row and the data key (P29).
        settings = runtime.settings
        reports += await clinic_exit.purge_due(
            runtime.database,
            runtime.data_keys,
            now=now,
            dry_run=dry_run,
            slug=slug,
            var_dir=settings.var_dir,
        )
        return reports

    for report in _with_runtime(work):
        for line in report.lines():
            click.echo(line)


@main.group()
def providers() -> None:
    """Which plugin serves a clinic for each kind, and its settings."""


@providers.command("set")
@click.option("--tenant", "slug", required=True, help="The clinic's slug.")
@click.argument("plugin")
@click.argument("values", nargs=-1)
def providers_set(slug: str, plugin: str, values: tuple[str, ...]) -> None:
    """Use PLUGIN for its kind at a clinic, with settings as VALUES (NAME=VALUE pairs).

    Every field of the plugin's settings model may be set here, operator-only ones too.
    Fields not named keep what is stored, so one can be changed alone. Secrets are sealed
    before they are stored and never printed. A running server uses the new settings
    within TENANT_CACHE_TTL seconds (at once in the process that saves them).
    """
    from pydantic import ValidationError

    from praxis.core.plugins.settings import AddressesRefused, put_settings
    from praxis.tenants.services import choose_provider, tenant_by_slug

    pairs = dict(v.split("=", 1) for v in values if "=" in v)
    if len(pairs) != len(values):
        raise click.UsageError("give settings as NAME=VALUE")

    async def apply(runtime: Any) -> str:
        manifest = runtime.plugins.manifests.get(plugin)
        if manifest is None or plugin not in runtime.plugins.factories:
            known = ", ".join(sorted(runtime.plugins.factories))
            raise click.ClickException(
                f"There is no provider plugin {plugin!r}. Installed: {known}"
            )
        async with runtime.database.writing() as db:
            tenant = await tenant_by_slug(db, slug)
            if tenant is None:
                raise click.ClickException(f"There is no clinic with the slug {slug!r}.")
            tenant_id = tenant.id
        async with runtime.database.writing(tenant_id) as db:
            store = runtime.provider_settings
            kept = store.stored(await store.row(db, plugin), tenant_id)
            try:
                await put_settings(
                    store,
                    db,
                    tenant_id=tenant_id,
                    plugin=plugin,
                    model=manifest.settings_model,
                    values={**kept, **pairs},
                )
            except ValidationError as exc:
                lines = [
                    f"  {'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                    for e in exc.errors(include_input=False, include_url=False)
                ]
                raise click.ClickException(
                    "\n".join([f"{plugin}: settings not valid", *lines])
                ) from None
            except AddressesRefused as exc:
                lines = [f"  {name}: {reason}" for name, reason in exc.errors.items()]
                raise click.ClickException(
                    "\n".join([f"{plugin}: settings not valid", *lines])
                ) from None
            await db.commit()
        async with runtime.database.writing() as db:
            await choose_provider(db, tenant_id, manifest.kind, plugin)
        unchanged = len(set(kept) - set(pairs))
        ttl = runtime.settings.tenant_cache_ttl_seconds
        return (
            f"{slug}: {manifest.kind} now provided by {plugin} ({len(pairs)} settings set, "
            f"{unchanged} kept). A running server uses them within {ttl:g} seconds "
            "(TENANT_CACHE_TTL)."
        )

    click.echo(_with_runtime(apply))
