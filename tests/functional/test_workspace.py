"""The Professional's workspace: weekly hours, dated changes, consultation types."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from praxis.core.booking.models import AvailabilityException, ConsultationType, WeeklyAvailability
from praxis.core.runtime import Runtime
from tests.support import Clinic, count_rows, login, post_form


@pytest.fixture
async def pro(client: httpx.AsyncClient, clinic: Clinic) -> httpx.AsyncClient:
    await login(client, clinic.professional.username)
    return client


async def slots_on(client: httpx.AsyncClient, clinic: Clinic, day: date) -> list[str]:
    response = await client.get(
        f"/api/v1/professionals/{clinic.professional_id}/slots",
        params={
            "consultation_type_id": str(clinic.kinds["Standard"]),
            "from": day.isoformat(),
            "to": day.isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    return [s["starts_at"] for s in response.json()["data"]]


async def test_workspace_pages_render(pro: httpx.AsyncClient) -> None:
    for path in ("/workspace", "/workspace/hours", "/workspace/consultations"):
        response = await pro.get(path)
        assert response.status_code == 200, path
    hours = await pro.get("/workspace/hours")
    assert "Monday 08:00 to 20:00" in hours.text


async def test_workspace_is_for_professionals_only(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    signed_out = await client.get("/workspace")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login?next=/workspace"
    await login(client, clinic.consumer.username)
    consumer = await client.get("/workspace/hours")
    assert consumer.status_code == 403
    assert "for Professionals" in consumer.text


async def test_pending_professional_is_told(client: httpx.AsyncClient, clinic: Clinic) -> None:
    await login(client, clinic.pending_professional.username)
    page = await client.get("/workspace")
    assert "waiting for the clinic's approval" in page.text


async def test_weekly_hours_add_and_remove(
    pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    before = await count_rows(rt, clinic, WeeklyAvailability)
    overlapping = await post_form(
        pro, "/workspace/hours", {"weekday": "0", "starts_at": "19:00", "ends_at": "21:00"}
    )
    assert overlapping.status_code == 422
    assert "overlap" in overlapping.text
    backwards = await post_form(
        pro, "/workspace/hours", {"weekday": "0", "starts_at": "21:00", "ends_at": "20:30"}
    )
    assert backwards.status_code == 422
    assert "The end time must be after the start time." in backwards.text
    off_grid = await post_form(
        pro, "/workspace/hours", {"weekday": "0", "starts_at": "20:03", "ends_at": "21:00"}
    )
    assert "5-minute boundary" in off_grid.text
    bad_day = await post_form(
        pro, "/workspace/hours", {"weekday": "9", "starts_at": "20:00", "ends_at": "21:00"}
    )
    assert bad_day.status_code == 422
    assert await count_rows(rt, clinic, WeeklyAvailability) == before
    added = await post_form(
        pro, "/workspace/hours", {"weekday": "0", "starts_at": "20:00", "ends_at": "21:00"}
    )
    assert added.status_code == 303
    assert await count_rows(rt, clinic, WeeklyAvailability) == before + 1
    async with rt.database.reading(clinic.tenant.id) as db:
        rule_id = await db.scalar(
            select(WeeklyAvailability.id)
            .where(WeeklyAvailability.ends_at > datetime.min.time())
            .order_by(WeeklyAvailability.ends_at.desc())
        )
    removed = await post_form(
        pro, f"/workspace/hours/{rule_id}/remove", {}, page="/workspace/hours"
    )
    assert removed.status_code == 303
    assert await count_rows(rt, clinic, WeeklyAvailability) == before


async def test_a_day_off_removes_that_days_slots(
    pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    day = date.today() + timedelta(days=5)
    assert len(await slots_on(pro, clinic, day)) == 24
    response = await post_form(
        pro,
        "/workspace/days",
        {"day_on_date": day.isoformat(), "day_note": "Training"},
        page="/workspace/hours",
    )
    assert response.status_code == 303
    assert await slots_on(pro, clinic, day) == []
    hours = await pro.get("/workspace/hours")
    assert "not available all day (Training)" in hours.text


async def test_part_day_off_and_extra_hours(pro: httpx.AsyncClient, clinic: Clinic) -> None:
    day = date.today() + timedelta(days=6)
    await post_form(
        pro,
        "/workspace/days",
        {"day_on_date": day.isoformat(), "day_starts_at": "08:00", "day_ends_at": "12:00"},
        page="/workspace/hours",
    )
    assert len(await slots_on(pro, clinic, day)) == 16
    await post_form(
        pro,
        "/workspace/days",
        {
            "day_on_date": day.isoformat(),
            "day_starts_at": "20:00",
            "day_ends_at": "21:00",
            "day_available": "on",
        },
        page="/workspace/hours",
    )
    assert len(await slots_on(pro, clinic, day)) == 18


async def test_bad_day_changes_change_nothing(
    pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    yesterday = date.today() - timedelta(days=1)
    cases = [
        ({"day_on_date": yesterday.isoformat()}, "Choose today or a later date."),
        ({"day_on_date": "not a date"}, "Enter a date like 2026-12-01."),
        (
            {
                "day_on_date": (date.today() + timedelta(days=2)).isoformat(),
                "day_starts_at": "10:00",
            },
            "Give both a start and an end time",
        ),
        (
            {"day_on_date": (date.today() + timedelta(days=2)).isoformat(), "day_available": "on"},
            "Extra hours need a start and an end time.",
        ),
    ]
    for data, message in cases:
        response = await post_form(pro, "/workspace/days", data, page="/workspace/hours")
        assert response.status_code == 422, data
        assert message in response.text, data
    assert await count_rows(rt, clinic, AvailabilityException) == 0


async def test_consultation_types(pro: httpx.AsyncClient, clinic: Clinic, rt: Runtime) -> None:
    before = await count_rows(rt, clinic, ConsultationType)
    bad = [
        ({"name": "", "duration_minutes": "30", "price": "10"}, "This field is required."),
        ({"name": "X", "duration_minutes": "31", "price": "10"}, "multiple of 5"),
        ({"name": "X", "duration_minutes": "30", "price": "ten"}, "Enter the price as a number"),
        ({"name": "X", "duration_minutes": "30", "price": "10.001"}, "at most 2 decimals"),
        ({"name": "X", "duration_minutes": "30", "price": "10", "currency": "XYZ1"}, "currency"),
        ({"name": "X", "duration_minutes": "30", "price": "10", "mode": "phone"}, "Choose one"),
    ]
    for data, message in bad:
        response = await post_form(pro, "/workspace/consultations", data)
        assert response.status_code == 422, data
        assert message in response.text, (data, response.text)
    assert await count_rows(rt, clinic, ConsultationType) == before
    added = await post_form(
        pro,
        "/workspace/consultations",
        {"name": "Quick check", "duration_minutes": "15", "price": "19.50", "mode": "in_person"},
    )
    assert added.status_code == 303
    page = await pro.get("/workspace/consultations")
    assert "Quick check" in page.text
    assert "£19.50" in page.text
    async with rt.database.reading(clinic.tenant.id) as db:
        kind = await db.scalar(
            select(ConsultationType).where(ConsultationType.name == "Quick check")
        )
    assert kind is not None and kind.price_minor == 1950
    retired = await post_form(
        pro, f"/workspace/consultations/{kind.id}/retire", {}, page="/workspace/consultations"
    )
    assert retired.status_code == 303
    public = await pro.get(f"/professionals/{clinic.professional_id}")
    assert "Quick check" not in public.text


async def test_a_professional_cannot_touch_a_colleagues_diary(
    client: httpx.AsyncClient, clinic: Clinic, rt: Runtime
) -> None:
    await login(client, clinic.pending_professional.username)
    async with rt.database.reading(clinic.tenant.id) as db:
        colleagues_rule = await db.scalar(
            select(WeeklyAvailability.id).where(
                WeeklyAvailability.professional_id == clinic.professional_id
            )
        )
    response = await post_form(
        client, f"/workspace/hours/{colleagues_rule}/remove", {}, page="/workspace/hours"
    )
    assert response.status_code == 404
    retire = await post_form(
        client,
        f"/workspace/consultations/{clinic.kinds['Standard']}/retire",
        {},
        page="/workspace/consultations",
    )
    assert retire.status_code == 404
    assert await count_rows(rt, clinic, WeeklyAvailability) == 14
