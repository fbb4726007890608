"""The facade (praxis.core.plugins.facade): a plugin that misbehaves fails on its own, named,
and recorded as such; a call has a deadline; an answer lost is *unknown* until a later
attempt settles it."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from praxis.core import ledger
from praxis.core.app import create_app
from praxis.core.config import Settings
from praxis.core.ledger import LedgerEvent, Status
from praxis.core.plugins.facade import Facade, PluginFault
from praxis.core.plugins.registry import Built, Registry
from praxis.core.providers.common import AnswerLost, TemporaryFailure
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import PluginKind
from praxis.core.providers.sms import ERASE_MESSAGE, MessageErasure
from praxis.core.providers.video import Meeting
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from tests.probe import LATER, PROCESSOR, SCRIPT, ProbePlugin, good
from tests.provider_fixtures import use_providers
from tests.support import Clinic, make_tenant

P20 = pytest.mark.promise("P20")


@pytest.fixture
async def probe_rt(settings: Settings) -> AsyncIterator[Runtime]:
    SCRIPT.answers.clear()
    SCRIPT.calls = 0
    app = create_app(settings, extra_plugins=[ProbePlugin()], access_log=False)
    async with app.router.lifespan_context(app):
        yield app.state.runtime


@pytest.fixture
async def tenant(probe_rt: Runtime) -> TenantInfo:
    made = await make_tenant(probe_rt, "alpha")
    return await use_providers(probe_rt, made.id, {"video": "video_probe"})


async def create(rt: Runtime, tenant: TenantInfo, *, attempt: int = 1, key: str = "job-1") -> Any:
    return await rt.providers(tenant).video.create_meeting(
        subject_id=SUBJECT, ends_at=LATER, idempotency_key=key, attempt=attempt
    )


SUBJECT = uuid.uuid4()


async def disclosures(rt: Runtime, tenant: TenantInfo) -> list[LedgerEvent]:
    async with rt.database.reading(tenant.id) as db:
        return list(reversed(await ledger.browse(db, ledger.LedgerFilter(), limit=100)))


@P20
@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (None, "returned None, not a Meeting"),
        ({"meeting_id": "room-1", "room_url": "https://rooms.example/r"}, "a dict, not a Meeting"),
        (
            Meeting("room-1", "https://r.example/r", "https://r.example/h", datetime.now()),
            "ends_at",
        ),
        (Meeting("room-1", "javascript:alert(1)", "https://r.example/h", LATER), "room_url"),
        (Meeting("room-1", "https://r.example/r", "data:text/html,x", LATER), "host_room_url"),
        (Meeting("", "https://r.example/r", "https://r.example/h", LATER), "meeting_id"),
    ],
    ids=["None", "a dict", "a naive datetime", "a javascript link", "a data link", "no id"],
)
async def test_an_unusable_result_is_the_plugins_failure_named_and_recorded(
    probe_rt: Runtime, tenant: TenantInfo, answer: Any, named: str
) -> None:
    SCRIPT.answers.append(answer)
    with pytest.raises(PluginFault) as caught:
        await create(probe_rt, tenant)
    reason = caught.value.reason
    assert reason.startswith("plugin video_probe returned an unusable answer to create_meeting: ")
    assert named in reason
    assert "javascript" not in reason and "data:text" not in reason  # never the value itself
    attempt, outcome = await disclosures(probe_rt, tenant)
    assert (attempt.status, attempt.recipient) == (Status.ATTEMPTED.value, PROCESSOR)
    assert (outcome.status, outcome.attempt_seq, outcome.reason) == (
        Status.FAILED.value,
        attempt.seq,
        reason,
    )


@P20
async def test_http_links_reach_people_only_off_production(
    probe_rt: Runtime, tenant: TenantInfo
) -> None:
    plain = Meeting("room-1", "http://rooms.example/r", "http://rooms.example/h", LATER)
    SCRIPT.answers.append(plain)
    assert await create(probe_rt, tenant) == plain  # the tests' and the sandbox's fakes
    live = probe_rt.settings.model_copy(update={"env": "production"})
    registry = Registry(probe_rt.plugins, probe_rt.provider_settings, probe_rt.http, live)
    SCRIPT.answers.append(plain)
    with pytest.raises(PluginFault, match="room_url: must be an https:// address"):
        await Facade(probe_rt.database, registry, tenant).video.create_meeting(
            subject_id=SUBJECT, ends_at=LATER, idempotency_key="job-2", attempt=1
        )


@pytest.mark.parametrize("settings_overrides", [{"PROVIDER_DEADLINE_SECONDS": 0.3}], indirect=True)
async def test_a_plugin_that_hangs_meets_the_deadline_and_its_outcome_is_unknown(
    probe_rt: Runtime, tenant: TenantInfo
) -> None:
    SCRIPT.answers.append("hang")
    started = time.monotonic()
    with pytest.raises(AnswerLost, match="video_probe did not answer within the deadline"):
        await create(probe_rt, tenant)
    assert time.monotonic() - started < 5
    attempt, outcome = await disclosures(probe_rt, tenant)
    assert outcome.status == Status.UNKNOWN.value and outcome.attempt_seq == attempt.seq
    async with probe_rt.database.reading(tenant.id) as db:
        [line] = await ledger.history(db, SUBJECT)
    assert line.outcome == "unknown"  # the person is told it may have been sent


async def test_an_unexpected_error_names_the_plugin_and_operation_never_its_message(
    probe_rt: Runtime, tenant: TenantInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    SCRIPT.answers.append(ValueError("Jane Example, 07911 123456"))
    with pytest.raises(PluginFault) as caught:
        await create(probe_rt, tenant)
    assert caught.value.reason == (
        "plugin video_probe failed unexpectedly in create_meeting (ValueError)"
    )
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "video_probe" in text and "create_meeting" in text and "ValueError" in text
    assert "Jane Example" not in text and "Traceback" not in text
    outcome = (await disclosures(probe_rt, tenant))[-1]
    assert outcome.status == Status.FAILED.value and "Jane" not in outcome.reason


async def test_in_development_the_log_has_the_traceback(
    probe_rt: Runtime, tenant: TenantInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    development = probe_rt.settings.model_copy(update={"env": "development"})
    registry = Registry(probe_rt.plugins, probe_rt.provider_settings, probe_rt.http, development)
    SCRIPT.answers.append(KeyError("room"))
    with pytest.raises(PluginFault):
        await Facade(probe_rt.database, registry, tenant).video.create_meeting(
            subject_id=SUBJECT, ends_at=LATER, idempotency_key="job-3", attempt=1
        )
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "Traceback" in text and "in create_meeting" in text and "video_probe" in text


@P20
@pytest.mark.parametrize(
    ("recovered", "settled"),
    [(True, "delivered"), (False, "failed"), (None, "unknown")],
    ids=["found: it had arrived", "not found: it never arrived", "cannot tell"],
)
async def test_a_later_attempt_settles_an_answer_lost(
    probe_rt: Runtime, tenant: TenantInfo, recovered: bool | None, settled: str
) -> None:
    SCRIPT.answers.extend([AnswerLost("the answer was lost"), good(recovered)])
    with pytest.raises(AnswerLost):
        await create(probe_rt, tenant, attempt=1)
    await create(probe_rt, tenant, attempt=2)
    async with probe_rt.database.reading(tenant.id) as db:
        lines = await ledger.history(db, SUBJECT)
        still_unknown = await ledger.unsettled(db, "job-1")
    assert len(still_unknown) == (0 if recovered is not None else 1)
    assert [line.outcome for line in lines] == ["delivered", settled]  # newest first
    events = await disclosures(probe_rt, tenant)
    if recovered is not None:
        assert events[-1].attempt_seq == events[0].seq  # the first attempt's own outcome
        assert events[-1].reason.startswith(f"settled by attempt {events[2].seq}: ")


async def test_a_first_attempt_never_settles_another_jobs_unknown(
    probe_rt: Runtime, tenant: TenantInfo
) -> None:
    SCRIPT.answers.append(AnswerLost("lost"))
    with pytest.raises(AnswerLost):
        await create(probe_rt, tenant, key="job-a")
    await create(probe_rt, tenant, key="job-b")  # another job: nothing to settle
    async with probe_rt.database.reading(tenant.id) as db:
        assert len(await ledger.unsettled(db, "job-a")) == 1


# --- optional operations, and erasures (plugin API 1.2) ----------------------------------------


class Texts:
    """An SMS provider that leaves out the optional erase_message."""


class ErasingTexts:
    def __init__(self, *answers: BaseException) -> None:
        self.answers = list(answers)
        self.asked: list[MessageErasure] = []

    async def erase_message(self, request: MessageErasure) -> None:
        self.asked.append(request)
        if self.answers:
            raise self.answers.pop(0)


class Serving(Registry):
    """The registry, serving the clinic's SMS plugin (Twilio's manifest) by ``provider``."""

    def __init__(self, rt: Runtime, provider: object) -> None:
        super().__init__(rt.plugins, rt.provider_settings, rt.http, rt.settings)
        self.provider = provider

    async def build(self, db: Any, tenant: TenantInfo, kind: PluginKind) -> Built:
        return Built(self.plugins.manifests["sms_twilio"], self.provider)


async def erasures(rt: Runtime, clinic: Clinic) -> list[LedgerEvent]:
    return [e for e in await disclosures(rt, clinic.tenant) if e.kind == "erasure"]


async def test_an_optional_operation_the_plugin_leaves_out_is_skipped_and_said(
    rt: Runtime, clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    facade = Facade(rt.database, Serving(rt, Texts()), clinic.tenant)
    assert not await facade.offers("sms", ERASE_MESSAGE)
    assert await facade.offers("sms", KINDS["sms"].operation("send_message"))  # required
    asked = await facade.sms.erase_message(
        subject_id=clinic.consumer.id, message_id="SM1", idempotency_key="job-e"
    )
    assert asked is False
    [entry] = await erasures(rt, clinic)  # the clinic learns the processor was not asked
    assert (entry.status, entry.recipient, entry.operation) == (
        Status.FAILED.value,
        "Twilio Ireland Limited",
        "erase_message",
    )
    assert entry.reason == "plugin sms_twilio does not offer erase_message: not asked"
    assert entry.subject_id == clinic.consumer.id
    logged = capsys.readouterr()
    assert "provider_not_asked" in logged.out + logged.err


@pytest.mark.promise("P33")
async def test_an_erasure_is_recorded_like_a_call_and_never_as_a_disclosure(
    rt: Runtime, clinic: Clinic
) -> None:
    provider = ErasingTexts(TemporaryFailure("Twilio answered 503 (error 20503)"))
    facade = Facade(rt.database, Serving(rt, provider), clinic.tenant)
    assert await facade.offers("sms", ERASE_MESSAGE)
    with pytest.raises(TemporaryFailure):
        await facade.sms.erase_message(
            subject_id=clinic.consumer.id, message_id="SM1", idempotency_key="job-e"
        )
    assert await facade.sms.erase_message(
        subject_id=clinic.consumer.id, message_id="SM1", idempotency_key="job-e"
    )
    assert provider.asked == [MessageErasure(message_id="SM1", idempotency_key="job-e")] * 2
    found = await disclosures(rt, clinic.tenant)
    assert [(e.kind, e.status) for e in found] == [
        ("erasure", "attempted"),
        ("erasure", "failed"),
        ("erasure", "attempted"),
        ("erasure", "succeeded"),
    ]
    assert found[1].attempt_seq == found[0].seq and found[3].attempt_seq == found[2].seq
    for entry in found:
        assert sorted(entry.category_list) == ["appointment", "phone"]  # erased, not sent
        assert entry.legal_basis == "right to erasure (UK GDPR Art. 17)"
        assert (entry.subject_id, entry.correlation_id) == (clinic.consumer.id, "job-e")
