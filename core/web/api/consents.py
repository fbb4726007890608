"""API: my consents (GET /me/consents) and one change (POST /me/consents), as the portal's
Privacy and consents page (P35)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from praxis.core.consents import account as my_consents
from praxis.core.intake import services as intake
from praxis.core.privacy import notices
from praxis.core.web.api.routes import api
from praxis.core.web.context import Access, Ctx


class ConsentOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    consent: str = Field(description="purpose.channel, e.g. marketing.email")
    label: str
    given: bool
    since: datetime | None = Field(description="None: never changed, the default applies")
    method: str | None = Field(
        description="portal, sms_keyword, email_link, sms_link, email_reply..."
    )
    acted_by: uuid.UUID | None = Field(description="Who made the change, if not you")
    scope: uuid.UUID | None = Field(description="The Professional, for intake sharing")
    about: str = ""


class ConsentList(BaseModel):
    model_config = ConfigDict(frozen=True)

    data: list[ConsentOut]


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    consent: str = Field(max_length=40, description="purpose.channel, as listed")
    give: bool
    scope: str = Field("", max_length=40, description="The Professional, for intake sharing")


async def _mine(ctx: Ctx) -> ConsentList:
    shown = await my_consents.shown(ctx.db, ctx.me, await intake.answered_for(ctx.db, ctx.me.id))
    return ConsentList(
        data=[
            ConsentOut(
                consent=line.kind.key,
                label=line.kind.label,
                given=line.state.given,
                since=line.state.since,
                method=line.state.method,
                acted_by=line.state.actor_id if line.state.actor_id != ctx.me.id else None,
                scope=line.state.scope_id,
                about=line.about,
            )
            for line in shown
        ]
    )


@api.operation(
    "GET", "/me/consents", summary="My consents", response=ConsentList, access=Access.CONSUMER
)
async def consents(ctx: Ctx) -> tuple[int, BaseModel]:
    return 200, await _mine(ctx)


@api.operation(
    "POST",
    "/me/consents",
    summary="Give or withdraw one consent; it counts before the next send",
    body=ConsentChange,
    response=ConsentList,
    access=Access.CONSUMER,
    errors=(404,),
)
async def change_consent(ctx: Ctx, body: ConsentChange) -> tuple[int, BaseModel]:
    await my_consents.change(
        ctx.db,
        ctx.me,
        body.consent,
        give=body.give,
        clinic=ctx.tenant.name,
        professionals=await intake.answered_for(ctx.db, ctx.me.id),
        scope=body.scope,
        notice_version=await notices.number_in_force(ctx.db),
    )
    await ctx.db.commit()
    return 200, await _mine(ctx)
