"""P27: two clinics side by side; nothing of one shows through, or can be changed, in the other.

Tenant A (alpha.localhost) and tenant B (beta.localhost) each get a booking, a
consultation type, a dated change and (B only) a video provider. Every page, API
call and export of A is then searched for anything of B, and B's ids are tried
in A's URLs: each answers 404, and B's rows are left as they were.

On PostgreSQL the second wall (row-level security) is proved on raw connections
too; those tests exist only when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from praxis.core.accounts.models import Professional, User
from praxis.core.booking import diary
from praxis.core.booking.forms import ConsultationTypeForm, DayChangeForm
from praxis.core.booking.models import Appointment, AvailabilityException, ConsultationType
from praxis.core.booking.models import WeeklyAvailability as Weekly
from praxis.core.cli import main
from praxis.core.config import ConfigError
from praxis.core.db import create_engine
from praxis.core.runtime import Runtime
from praxis.core.tenancy import Database, tenant_tables
from praxis.core.tenancy.role import check_database_role, database_user
from praxis.tenants.services import save_tenant, set_domain_verified
from tests.conftest import PLATFORM_RELAY, TEST_LEDGER_KEY, TEST_SECRET, _settings, client_for
from tests.support import (
    PASSWORD,
    Clinic,
    Person,
    api_login,
    login,
    make_tenant,
    person_fields,
    tenant_spec,
)

P27 = pytest.mark.promise("P27")


@dataclass
class Extras:
    """What each clinic gets beyond the fixture: a named consultation and a dated change."""

    special: uuid.UUID
    rule: uuid.UUID
    change: uuid.UUID
    appointment: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class World:
    a: Clinic
    b: Clinic
    ax: Extras
    bx: Extras
    b_free_slot: str

    def ids(self) -> dict[str, str]:
        return {
            "a_pro": str(self.a.professional_id),
            "a_special": str(self.ax.special),
            "a_appointment": str(self.ax.appointment),
            "b_pro": str(self.b.professional_id),
            "b_pending": str(self.b.pending_professional_id),
            "b_special": str(self.bx.special),
            "b_standard": str(self.b.kinds["Standard"]),
            "b_rule": str(self.bx.rule),
            "b_change": str(self.bx.change),
            "b_appointment": str(self.bx.appointment),
            "b_free_slot": self.b_free_slot,
        }

    def fill(self, template: str) -> str:
        return template.format(**self.ids())

    def b_markers(self) -> list[str]:
        """Anything of B that must never appear in an answer of A."""
        b = self.b
        people = [b.professional, b.pending_professional, b.consumer, b.admin]
        return [
            "Beta Clinic",
            "beta.example",
            "Beta Special Session",
            "Beta private note",
            *(f"{p.username.title()} Example" for p in people),
            *(p.username for p in people),
            *(str(p.id) for p in people),
            str(b.tenant.id),
            str(b.professional_id),
            str(b.pending_professional_id),
            *(str(k) for k in b.kinds.values()),
            str(self.bx.special),
            str(self.bx.rule),
            str(self.bx.change),
            str(self.bx.appointment),
        ]

    def assert_nothing_of_b(self, response: httpx.Response, where: str) -> None:
        for marker in self.b_markers():
            assert marker not in response.text, f"{where} shows {marker!r} of tenant B"


async def _diary_extras(rt: Runtime, clinic: Clinic, prefix: str) -> Extras:
    tenant_id = clinic.tenant.id
    async with rt.database.writing(tenant_id) as db:
        profile = await db.get(Professional, (tenant_id, clinic.professional_id))
        assert profile is not None
        kind = await diary.add_consultation_type(
            db,
            profile,
            ConsultationTypeForm(name=f"{prefix} Special Session", duration_minutes=45, price="55"),
        )
        today = date.today()
        change, _ = await diary.save_day_change(
            db,
            clinic.tenant,
            profile,
            DayChangeForm(on_date=today + timedelta(days=20), note=f"{prefix} private note"),
            today=today,
            now=datetime.now(UTC),
            by=clinic.professional.id,
        )
        rules = await diary.weekly_hours(db, profile.id)
        return Extras(special=kind.id, rule=rules[0].id, change=change.id)


async def _slot(http: httpx.AsyncClient, clinic: Clinic, kind: uuid.UUID, days: int) -> str:
    day = (date.today() + timedelta(days=days)).isoformat()
    response = await http.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={"consultation_type_id": str(kind), "from": day, "to": day},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"][0]["starts_at"])


async def _book(app: Any, clinic: Clinic, kind: uuid.UUID) -> uuid.UUID:
    """The clinic's consumer books ``kind`` three days ahead, through the API."""
    async with client_for(app, clinic.host) as http:
        headers = await api_login(http, clinic.consumer.username)
        body = {
            "professional_id": str(clinic.professional_id),
            "consultation_type_id": str(kind),
            "starts_at": await _slot(http, clinic, kind, 3),
        }
        response = await http.post("/api/v1/appointments", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return uuid.UUID(response.json()["id"])


async def _set_providers(rt: Runtime, slug: str, providers: dict[str, str]) -> None:
    async with rt.database.writing() as db:
        spec = tenant_spec(slug, providers=providers)
        await save_tenant(db, spec, platform_domain=rt.settings.platform_domain, update=True)
    rt.directory.forget_all()


@pytest.fixture
async def world(app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic) -> World:
    ax = await _diary_extras(rt, clinic, "Alpha")
    bx = await _diary_extras(rt, other_clinic, "Beta")
    ax.appointment = await _book(app, clinic, clinic.kinds["Standard"])
    bx.appointment = await _book(app, other_clinic, bx.special)
    await _set_providers(rt, "beta", {"video": "video_whereby"})
    async with client_for(app, other_clinic.host) as http:
        b_free_slot = await _slot(http, other_clinic, bx.special, 4)
    return World(clinic, other_clinic, ax, bx, b_free_slot)


def _who(clinic: Clinic, role: str) -> Person | None:
    return {
        "anonymous": None,
        "consumer": clinic.consumer,
        "professional": clinic.professional,
        "admin": clinic.admin,
    }[role]


@asynccontextmanager
async def signed_in(app: Any, clinic: Clinic, role: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on the clinic's host, signed in (through the sign-in page) as ``role``."""
    async with client_for(app, clinic.host) as http:
        person = _who(clinic, role)
        if person is not None:
            await login(http, person.username)
        yield http


async def _csrf(http: httpx.AsyncClient) -> str:
    me = await http.get("/api/v1/me")
    assert me.status_code == 200, me.text
    return str(me.json()["csrf_token"])


# Every list, page, API call and export of A, with something of A each must show.
A_ANSWERS: dict[str, list[tuple[str, str]]] = {
    "anonymous": [
        ("/", "Alpha Clinic"),
        ("/professionals", "Alpha.Pro Example"),
        ("/professionals/{a_pro}", "Alpha Special Session"),
        ("/professionals/{a_pro}/book?type={a_special}", "Alpha Special Session"),
        ("/api/v1/professionals", "{a_pro}"),
        ("/api/v1/professionals/{a_pro}", "{a_special}"),
        ("/api/v1/professionals/{a_pro}/slots?consultation_type_id={a_special}", "{a_special}"),
    ],
    "consumer": [
        ("/appointments", "Standard with Alpha.Pro Example"),
        ("/account", "alpha.consumer@example.org"),
        ("/professionals", "Alpha.Pro Example"),
        ("/api/v1/me", "alpha.consumer"),
        ("/api/v1/appointments", "{a_appointment}"),
        ("/api/v1/appointments/{a_appointment}", "{a_appointment}"),
    ],
    "professional": [
        ("/workspace", "Alpha.Consumer Example"),
        ("/workspace/hours", "Alpha private note"),
        ("/workspace/consultations", "Alpha Special Session"),
        ("/account", "alpha.pro@example.org"),
    ],
    "admin": [
        ("/admin", "Alpha.Newpro Example"),
        ("/admin/professionals", "alpha.pro@example.org"),
        ("/admin/appointments", "Alpha.Consumer Example"),
        ("/admin/appointments.csv", "{a_appointment}"),
        ("/-/plugins", "video_whereby"),
    ],
}


@P27
async def test_every_answer_of_a_shows_nothing_of_b(app: Any, world: World) -> None:
    for role, answers in A_ANSWERS.items():
        await _check_answers(app, world, role, answers)


async def _check_answers(app: Any, world: World, role: str, answers: list[tuple[str, str]]) -> None:
    async with signed_in(app, world.a, role) as http:
        for template, expected in answers:
            path = world.fill(template)
            response = await http.get(path)
            assert response.status_code == 200, f"{path}: {response.status_code}"
            assert world.fill(expected) in response.text, f"{path} lacks A's {expected!r}"
            world.assert_nothing_of_b(response, path)


@P27
async def test_b_sees_its_own_data_so_the_markers_are_real(app: Any, world: World) -> None:
    """The mirror image: B's answers do show B's markers (and nothing of A)."""
    async with signed_in(app, world.b, "admin") as http:
        export = await http.get("/admin/appointments.csv")
        assert str(world.bx.appointment) in export.text
        assert "Beta.Consumer Example" in export.text
        assert str(world.ax.appointment) not in export.text
        assert "Alpha" not in export.text
        plugins = (await http.get("/-/plugins")).json()["plugins"]
        assert {p["name"] for p in plugins if p["enabled"]} == {"video_whereby"}
    async with signed_in(app, world.b, "professional") as http:
        hours = await http.get("/workspace/hours")
        assert "Beta private note" in hours.text
        assert f"/workspace/hours/{world.bx.rule}/remove" in hours.text
        assert "Alpha private note" not in hours.text


@P27
async def test_a_tenant_configuration_does_not_leak_into_another(app: Any, world: World) -> None:
    async with signed_in(app, world.a, "admin") as http:
        plugins = (await http.get("/-/plugins")).json()["plugins"]
    assert plugins, "no plugin is installed, so this proves nothing"
    assert [p["name"] for p in plugins if p["enabled"]] == []


SLOTS_OF_B_KIND = "consultation_type_id={b_special}"
# B's ids in A's URLs: (who on A, method, path, form or JSON body).
CROSS_TENANT: list[tuple[str, str, str, dict[str, str] | None]] = [
    ("anonymous", "GET", "/professionals/{b_pro}", None),
    ("anonymous", "GET", "/professionals/{b_pending}", None),
    ("anonymous", "GET", "/professionals/{b_pro}/book?type={b_special}", None),
    ("anonymous", "GET", "/professionals/{a_pro}/book?type={b_special}", None),
    ("anonymous", "GET", "/api/v1/professionals/{b_pro}", None),
    (
        "anonymous",
        "GET",
        "/api/v1/professionals/{b_pro}/slots?consultation_type_id={b_special}",
        None,
    ),
    (
        "anonymous",
        "GET",
        "/api/v1/professionals/{a_pro}/slots?consultation_type_id={b_special}",
        None,
    ),
    ("consumer", "POST", "/appointments/{b_appointment}/cancel", {}),
    (
        "consumer",
        "POST",
        "/appointments",
        {
            "professional_id": "{b_pro}",
            "consultation_type_id": "{b_special}",
            "starts_at": "{b_free_slot}",
        },
    ),
    ("consumer", "GET", "/api/v1/appointments/{b_appointment}", None),
    ("consumer", "POST", "/api/v1/appointments/{b_appointment}/cancel", {}),
    (
        "consumer",
        "POST",
        "/api/v1/appointments",
        {
            "professional_id": "{b_pro}",
            "consultation_type_id": "{b_special}",
            "starts_at": "{b_free_slot}",
        },
    ),
    (
        "consumer",
        "POST",
        "/api/v1/appointments",
        {
            "professional_id": "{a_pro}",
            "consultation_type_id": "{b_standard}",
            "starts_at": "{b_free_slot}",
        },
    ),
    ("professional", "POST", "/workspace/hours/{b_rule}/remove", {}),
    ("professional", "POST", "/workspace/days/{b_change}/remove", {}),
    ("professional", "POST", "/workspace/consultations/{b_special}/retire", {}),
    ("admin", "POST", "/admin/professionals/{b_pending}/approve", {}),
    ("admin", "POST", "/admin/professionals/{b_pending}/reject", {}),
]


async def _b_as_it_was(rt: Runtime, world: World) -> None:
    b = world.b.tenant.id
    async with rt.database.reading(b) as db:
        booked = await db.get(Appointment, (b, world.bx.appointment))
        assert booked is not None and booked.status == "booked"
        pending = await db.get(Professional, (b, world.b.pending_professional_id))
        assert pending is not None and pending.status == "pending"
        assert await db.get(Weekly, (b, world.bx.rule)) is not None
        assert await db.get(AvailabilityException, (b, world.bx.change)) is not None
        kind = await db.get(ConsultationType, (b, world.bx.special))
        assert kind is not None and kind.active
        assert await db.scalar(select(func.count()).select_from(Appointment)) == 1
    async with rt.database.reading(world.a.tenant.id) as db:
        assert await db.scalar(select(func.count()).select_from(Appointment)) == 1


@P27
async def test_ids_of_b_in_urls_of_a_are_not_found(app: Any, rt: Runtime, world: World) -> None:
    for role in ("anonymous", "consumer", "professional", "admin"):
        await _try_ids_of_b(app, world, role)
    await _b_as_it_was(rt, world)


async def _try_ids_of_b(app: Any, world: World, role: str) -> None:
    cases = [c for c in CROSS_TENANT if c[0] == role]
    async with signed_in(app, world.a, role) as http:
        token = await _csrf(http) if role != "anonymous" else ""
        for _, method, template, body in cases:
            path = world.fill(template)
            filled = {k: world.fill(v) for k, v in (body or {}).items()}
            if method == "GET":
                response = await http.get(path)
            elif path.startswith("/api/"):
                response = await http.post(path, json=filled, headers={"X-CSRF-Token": token})
            else:
                response = await http.post(path, data={**filled, "csrf_token": token})
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
            world.assert_nothing_of_b(response, f"{method} {path}")
            if path.startswith("/api/"):
                assert response.json()["error"]["code"] == "not_found"


@P27
async def test_a_session_cookie_does_not_sign_in_on_b(app: Any, world: World) -> None:
    async with client_for(app, world.a.host) as alpha:
        await api_login(alpha, world.a.consumer.username)
        token = alpha.cookies.get("praxis_session")
        assert token
    cookie = {"Cookie": f"praxis_session={token}"}
    async with client_for(app, world.a.host) as again:
        me = await again.get("/api/v1/me", headers=cookie)
        assert me.status_code == 200, "the cookie should work where it was issued"
        assert me.json()["username"] == "alpha.consumer"
    async with client_for(app, world.b.host) as beta:
        me = await beta.get("/api/v1/me", headers=cookie)
        assert me.status_code == 401
        assert me.json()["error"]["code"] == "sign_in_required"
        assert "praxis_session=" in me.headers.get("set-cookie", ""), "stale cookie not dropped"
        page = await beta.get("/appointments", headers=cookie)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")
        account = await beta.get("/account", headers=cookie)
        assert account.status_code == 303
        world.assert_nothing_of_b(account, "/account")


@P27
async def test_accounts_and_sign_in_limits_are_per_clinic(app: Any, world: World) -> None:
    """A username taken in A is free in B (no cross-clinic oracle); A's password does not
    open B; locking an account out in A leaves B alone."""
    async with client_for(app, world.b.host) as beta:
        wrong = await beta.post(
            "/api/v1/auth/login", json={"username": "alpha.consumer", "password": PASSWORD}
        )
        assert wrong.status_code == 401
        fields = person_fields("alpha.consumer", password="another-secret-phrase")
        made = await beta.post("/api/v1/consumers", json=fields)
        assert made.status_code == 201, made.text
        assert made.json()["id"] != str(world.a.consumer.id)
    async with client_for(app, world.a.host) as alpha:
        for _ in range(5):
            await alpha.post(
                "/api/v1/auth/login", json={"username": "alpha.consumer", "password": "wrong-one"}
            )
        locked = await alpha.post(
            "/api/v1/auth/login", json={"username": "alpha.consumer", "password": PASSWORD}
        )
        assert locked.status_code == 429
    async with client_for(app, world.b.host) as beta:
        fine = await beta.post(
            "/api/v1/auth/login",
            json={"username": "alpha.consumer", "password": "another-secret-phrase"},
        )
        assert fine.status_code == 200, fine.text
        assert fine.json()["full_name"] == "Alpha.Consumer Example"
        mine = await beta.get("/api/v1/appointments")
        assert mine.json() == {"data": []}


UNKNOWN_HOSTS = [
    "gamma.localhost",  # no such clinic
    "www.alpha.localhost",  # a subdomain of a clinic's subdomain
    "beta.alpha.localhost",
    "alpha.localhost.evil.example",
    "alpha",
    "",
]


@P27
async def test_unknown_hosts_are_not_found(app: Any, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as http:
        for host in UNKNOWN_HOSTS:
            for path in ("/", "/professionals", "/api/v1/professionals", "/login"):
                response = await http.get(path, headers={"Host": host})
                assert response.status_code == 404, f"{host}{path}"
                assert "Alpha" not in response.text
                assert "There is no clinic at this address" in response.text


@P27
async def test_hosts_name_the_clinic_port_and_case_aside(app: Any, world: World) -> None:
    for host in ("alpha.localhost:8000", "ALPHA.localhost", "alpha.localhost."):
        async with client_for(app, host) as http:
            response = await http.get("/professionals")
            assert response.status_code == 200, host
            assert "Alpha.Pro Example" in response.text
            world.assert_nothing_of_b(response, host)


@P27
async def test_clinic_pages_are_not_on_the_platform_host_and_back(app: Any, clinic: Clinic) -> None:
    async with client_for(app, "localhost") as platform:
        for path in (
            "/professionals",
            "/admin",
            "/appointments",
            f"/professionals/{clinic.professional_id}",
        ):
            assert (await platform.get(path)).status_code == 404, path
        api = await platform.get("/api/v1/professionals")
        assert api.status_code == 404
        assert api.json()["error"]["code"] == "not_found"
    async with client_for(app, clinic.host) as http:
        assert (await http.get("/platform")).status_code == 404
        assert (await http.get(f"/platform/tenants/{clinic.tenant.id}")).status_code == 404


@P27
async def test_custom_domain_serves_only_once_verified(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    gamma = await make_tenant(rt, "gamma", domains=["clinic.gamma.example"])
    async with client_for(app, "clinic.gamma.example") as http:
        before = await http.get("/")
        assert before.status_code == 404
        assert "Gamma Clinic" not in before.text
        async with rt.database.writing() as db:
            assert not await set_domain_verified(
                db, clinic.tenant.id, "clinic.gamma.example", verified=True
            ), "a clinic verified a domain that is not its own"
        rt.directory.forget_all()
        assert (await http.get("/")).status_code == 404
        async with rt.database.writing() as db:
            assert await set_domain_verified(db, gamma.id, "clinic.gamma.example", verified=True)
        rt.directory.forget_all()
        after = await http.get("/")
        assert after.status_code == 200
        assert "Gamma Clinic" in after.text
        assert "Alpha" not in after.text
        pros = await http.get("/api/v1/professionals")
        assert pros.json() == {"data": []}, "gamma has no Professionals; alpha's must not show"
        async with rt.database.writing() as db:
            assert await set_domain_verified(db, gamma.id, "clinic.gamma.example", verified=False)
        rt.directory.forget_all()
        assert (await http.get("/")).status_code == 404
    async with client_for(app, "www.clinic.gamma.example") as http:
        assert (await http.get("/")).status_code == 404


# PostgreSQL's row-level security, on raw connections. These tests exist only when
# TEST_DATABASE_URL names a PostgreSQL database: on SQLite-only runs they are not generated.
POSTGRES_URLS = [
    url for url in [os.environ.get("TEST_DATABASE_URL", "")] if url.startswith("postgresql")
]
APP_ROLE = "praxis_app"

if POSTGRES_URLS:  # never an empty parametrisation: on SQLite-only runs nothing is generated

    @asynccontextmanager
    async def _raw(url: str) -> AsyncIterator[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                yield conn
        finally:
            await engine.dispose()

    async def _as_app(conn: Any, tenant: uuid.UUID | None) -> None:
        await conn.execute(text(f"SET ROLE {APP_ROLE}"))
        await conn.execute(
            text("SELECT set_config('app.tenant_id', :t, false)"),
            {"t": str(tenant) if tenant else ""},
        )

    @P27
    @pytest.mark.parametrize("backend", ["postgresql"])
    class TestRowLevelSecurity:
        """The second wall, with the ORM filter out of the way entirely."""

        @pytest.fixture
        def postgres_url(self, backend: str, database_urls: dict[str, str]) -> str:
            """The database the app fixtures (rt, clinic, ...) run on (under pytest-xdist,
            this worker's own)."""
            return database_urls[backend]

        async def test_the_app_connects_as_the_restricted_role(self, rt: Runtime) -> None:
            """It signs in as the role itself (the documented set-up), not as another user
            that SETs ROLE to it and could RESET ROLE back."""
            who = text("SELECT session_user, current_user").execution_options(platform_scope=True)
            async with rt.database.reading() as db:
                assert tuple((await db.execute(who)).one()) == (APP_ROLE, APP_ROLE)
            user = await database_user(rt.database)
            assert user is not None and user.problems == ()

        async def test_an_injected_reset_role_or_set_role_gains_nothing(
            self, rt: Runtime, clinic: Clinic, other_clinic: Clinic
        ) -> None:
            """What an injected statement could try on the app's own connection."""
            async with _raw(rt.settings.database_url) as conn:
                await conn.execute(text("RESET ROLE"))
                who = (await conn.execute(text("SELECT session_user, current_user"))).one()
                assert tuple(who) == (APP_ROLE, APP_ROLE)
                refused = {
                    "SET ROLE postgres": "permission denied to set role",
                    "SET ROLE praxis_retention": "permission denied to set role",
                    "SET SESSION AUTHORIZATION postgres": "permission denied",
                    "ALTER TABLE users NO FORCE ROW LEVEL SECURITY": "must be owner",
                    "ALTER TABLE users DISABLE ROW LEVEL SECURITY": "must be owner",
                    "DROP POLICY tenant_isolation ON users": "must be owner",
                    "DELETE FROM ledger_events": "permission denied",
                    "CREATE ROLE intruder": "permission denied",
                }
                for statement, reason in refused.items():
                    with pytest.raises(DBAPIError, match=reason):
                        await conn.execute(text(statement))
                    await conn.rollback()
                # The purged-ledger function refuses a clinic that is still here.
                with pytest.raises(DBAPIError, match="only a purged clinic"):
                    await conn.execute(
                        text("SELECT * FROM praxis_purge_ledger(:t)"), {"t": clinic.tenant.id}
                    )
                await conn.rollback()
                await conn.execute(text("RESET ROLE"))
                assert await conn.scalar(text("SELECT count(*) FROM users")) == 0
                await conn.execute(
                    text("SELECT set_config('app.tenant_id', :t, false)"),
                    {"t": str(clinic.tenant.id)},
                )
                seen = set(await conn.scalars(text("SELECT tenant_id FROM users")))
                assert seen == {clinic.tenant.id}

        async def test_production_refuses_a_database_user_rls_cannot_bind(
            self, postgres_url: str, tmp_path: Path
        ) -> None:
            """The tables' owner (here a superuser, as in many quick set-ups) SETting ROLE to
            the app's role: fine for a developer, refused in production."""
            settings = _settings(postgres_url, tmp_path, DATABASE_URL=postgres_url)
            database = Database(create_engine(settings))
            try:
                user = await database_user(database)
                assert user is not None and user.name == "postgres"
                assert "is a superuser" in user.problems, user.problems
                assert any("owns tables" in p for p in user.problems), user.problems
                await check_database_role(database, settings)  # a warning off production
                production = settings.model_copy(update={"env": "production"})
                with pytest.raises(ConfigError, match="Sign in as the app's own role"):
                    await check_database_role(database, production)
            finally:
                await database.dispose()

        def test_praxis_worker_in_production_says_why_it_will_not_start(
            self, postgres_url: str, tmp_path: Path
        ) -> None:
            env = {
                "PRAXIS_ENV": "production",
                "DATABASE_URL": postgres_url,
                "SECRET_KEY": TEST_SECRET,
                "LEDGER_SIGNING_KEY": TEST_LEDGER_KEY,
                "PRAXIS_VAR_DIR": str(tmp_path),
                **PLATFORM_RELAY,
            }
            refused = CliRunner().invoke(main, ["worker", "--once"], env=env)
            assert refused.exit_code == 1, refused.output
            assert "Row-level security cannot bind the database user 'postgres'" in (refused.output)
            assert "Traceback" not in refused.output

        async def test_a_connection_keeps_the_restricted_role_for_its_whole_life(
            self, postgres_url: str, tmp_path: Path
        ) -> None:
            """Pooled connections are reused: the role must outlive the first transaction,
            which a read-only session ends with a rollback."""
            settings = _settings(postgres_url, tmp_path, DATABASE_POOL_SIZE=1)
            database = Database(create_engine(settings))
            who = text("SELECT current_user").execution_options(platform_scope=True)
            try:
                seen = []
                for _ in range(3):  # one connection, three transactions
                    async with database.reading() as db:
                        seen.append(await db.scalar(who))
            finally:
                await database.dispose()
            assert seen == [APP_ROLE] * 3

        async def test_no_tenant_set_sees_no_rows(
            self, postgres_url: str, clinic: Clinic, other_clinic: Clinic
        ) -> None:
            async with _raw(postgres_url) as conn:
                owner_sees = await conn.scalar(text("SELECT count(*) FROM users"))
                assert owner_sees == 8, "the owner (superuser) should see both clinics' users"
                await _as_app(conn, None)
                assert await conn.scalar(text("SELECT count(*) FROM users")) == 0
                await conn.execute(text("RESET app.tenant_id"))
                assert await conn.scalar(text("SELECT count(*) FROM users")) == 0
                assert await conn.scalar(text("SELECT count(*) FROM appointments")) == 0

        async def test_a_set_sees_only_a(
            self, postgres_url: str, clinic: Clinic, other_clinic: Clinic
        ) -> None:
            async with _raw(postgres_url) as conn:
                await _as_app(conn, clinic.tenant.id)
                rows = (await conn.execute(text("SELECT tenant_id, username FROM users"))).all()
                assert {r.tenant_id for r in rows} == {clinic.tenant.id}
                assert sorted(r.username for r in rows) == [
                    "alpha.admin",
                    "alpha.consumer",
                    "alpha.newpro",
                    "alpha.pro",
                ]
                found = await conn.scalar(
                    text("SELECT count(*) FROM professionals WHERE id = :id"),
                    {"id": other_clinic.professional_id},
                )
                assert found == 0
                changed = await conn.execute(
                    text("UPDATE users SET full_name = 'X' WHERE tenant_id = :b"),
                    {"b": other_clinic.tenant.id},
                )
                assert changed.rowcount == 0
                gone = await conn.execute(
                    text("DELETE FROM user_sessions WHERE tenant_id = :b"),
                    {"b": other_clinic.tenant.id},
                )
                assert gone.rowcount == 0

        async def test_writing_b_rows_while_a_is_set_is_refused(
            self, postgres_url: str, clinic: Clinic, other_clinic: Clinic
        ) -> None:
            insert = text(
                "INSERT INTO users (tenant_id, id, username, role, full_name, email, phone, "
                "address_line1, address_line2, town, postcode, country, password_hash, "
                "is_active, created_at) VALUES (:tenant, :id, 'intruder', 'consumer', 'I', "
                "'i@example.org', '+447911123456', '1 Road', '', 'Town', 'N1 1AA', 'GB', 'x', "
                "true, now())"
            )
            async with _raw(postgres_url) as conn:
                await _as_app(conn, clinic.tenant.id)
                with pytest.raises(DBAPIError, match="row-level security"):
                    await conn.execute(
                        insert, {"tenant": other_clinic.tenant.id, "id": uuid.uuid4()}
                    )
                await conn.rollback()
                await _as_app(conn, clinic.tenant.id)
                # The tenant_id trigger refuses before row-level security is asked: either wall.
                with pytest.raises(DBAPIError, match="cannot move to another tenant"):
                    await conn.execute(
                        text("UPDATE users SET tenant_id = :b WHERE id = :id"),
                        {"b": other_clinic.tenant.id, "id": clinic.consumer.id},
                    )
                await conn.rollback()
            async with _raw(postgres_url) as conn:
                names = await conn.scalars(
                    text("SELECT username FROM users WHERE tenant_id = :b"),
                    {"b": other_clinic.tenant.id},
                )
                assert "intruder" not in list(names)

        async def test_every_tenant_table_is_forced_under_a_policy(
            self, postgres_url: str, rt: Runtime
        ) -> None:
            tables = tenant_tables()
            assert "users" in tables and "appointments" in tables
            async with _raw(postgres_url) as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                            "pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
                            "AND c.relname = ANY(:names)"
                        ),
                        {"names": tables},
                    )
                ).all()
                assert sorted(r.relname for r in rows) == tables, "a tenant table is missing"
                for row in rows:
                    assert row.relrowsecurity, f"{row.relname}: row-level security is off"
                    assert row.relforcerowsecurity, f"{row.relname}: not FORCEd for the owner"
                    assert row.owner != APP_ROLE, f"{row.relname} is owned by the app role"
                policies = (
                    await conn.execute(
                        text(
                            "SELECT tablename, qual, with_check FROM pg_policies "
                            "WHERE schemaname = current_schema() AND tablename = ANY(:names)"
                        ),
                        {"names": tables},
                    )
                ).all()
                covered = {p.tablename for p in policies}
                assert covered == set(tables), f"no policy on {set(tables) - covered}"
                for policy in policies:
                    assert "app.tenant_id" in policy.qual, policy.tablename
                    assert "app.tenant_id" in (policy.with_check or ""), policy.tablename

        async def test_the_app_role_cannot_bypass_row_level_security(
            self, postgres_url: str, rt: Runtime
        ) -> None:
            async with _raw(postgres_url) as conn:
                role = (
                    await conn.execute(
                        text(
                            "SELECT rolbypassrls, rolsuper, rolcanlogin, rolinherit FROM pg_roles "
                            "WHERE rolname = :r"
                        ),
                        {"r": APP_ROLE},
                    )
                ).one()
                assert role.rolbypassrls is False
                assert role.rolsuper is False
                assert role.rolcanlogin is True and role.rolinherit is False
                member_of = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r "
                        "ON r.oid = m.member WHERE r.rolname = :r"
                    ),
                    {"r": APP_ROLE},
                )
                assert member_of == 0, "the app's role could SET ROLE to another"
                owned = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                        "WHERE r.rolname = :r AND c.relkind = 'r'"
                    ),
                    {"r": APP_ROLE},
                )
                assert owned == 0

        async def test_the_orm_and_rls_agree_through_the_app(
            self, rt: Runtime, clinic: Clinic, other_clinic: Clinic
        ) -> None:
            """Platform scope switches the ORM filter off; RLS alone still shows nothing."""
            async with rt.database.reading(None) as db:
                query = select(User.username).execution_options(platform_scope=True)
                assert list(await db.scalars(query)) == []
            async with rt.database.reading(clinic.tenant.id) as db:
                query = select(User.username).execution_options(platform_scope=True)
                assert sorted(await db.scalars(query)) == [
                    "alpha.admin",
                    "alpha.consumer",
                    "alpha.newpro",
                    "alpha.pro",
                ]
