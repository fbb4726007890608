"""Telling a platform operator by email that their sign-in changed, as clinic accounts are
told (``alerts``), through the platform's own mail (``praxis.core.plugins.platform_mail``).

The outbox cannot carry these: each of its jobs belongs to one clinic (its tenant column is
required and walled), and an operator belongs to none. So ``tell`` notes the alert on the
session, only a commit makes it ``due``, and the web layer sends what is due once the
response has gone (a slow relay never holds the request; a refused change sends nothing),
trying a passing failure twice more. The trade-off: nothing retries it later, so a relay
down for long, or a process that dies between the commit and the send, loses it. The log
shows it: an ``operator_alert_due`` with no ``operator_alert_sent`` for the same ``alert_id``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import recovery
from praxis.core.accounts.alerts import SUBJECTS, WHAT, Change
from praxis.core.accounts.models import Operator
from praxis.core.db import utcnow
from praxis.core.plugins.platform_mail import PlatformMail
from praxis.core.providers.common import TemporaryFailure

log = structlog.get_logger("praxis.accounts")
PENDING, DUE = "praxis.operator_alerts.pending", "praxis.operator_alerts.due"
WHOSE = "Praxis platform operator"
RETRY_WAITS = (2.0, 10.0)  # seconds before the second and third try: a relay's brief hiccup
IF_NOT_YOU = (
    "If this was you, there is nothing to do. If it was not, someone else may hold your "
    "password or your device: tell whoever runs this platform at once, and change your "
    "password if you still can."
)


@dataclass(frozen=True)
class OperatorAlert:
    """What the email needs, read when the change was made (ids and the address only)."""

    id: uuid.UUID  # the Message-ID derives from it
    operator_id: uuid.UUID
    address: str
    change: Change
    at: datetime
    codes_left: int


def tell(db: AsyncSession, operator: Operator, change: Change) -> None:
    """Note the alert in the caller's transaction: due exactly when the change commits."""
    info = db.sync_session.info
    if PENDING not in info:
        info[PENDING], info[DUE] = [], []
        event.listen(db.sync_session, "after_commit", _committed)
        event.listen(db.sync_session, "after_rollback", _rolled_back)
    alert = OperatorAlert(
        uuid.uuid4(), operator.id, operator.email, change, utcnow(), recovery.remaining(operator)
    )
    info[PENDING].append(alert)


def due(db: AsyncSession | None) -> list[OperatorAlert]:
    """The alerts of changes this session committed, each handed out once."""
    if db is None or DUE not in db.sync_session.info:
        return []
    found: list[OperatorAlert] = db.sync_session.info[DUE]
    db.sync_session.info[DUE] = []
    for alert in found:
        log.info("operator_alert_due", alert_id=str(alert.id), change=alert.change.value)
    return found


def message(alert: OperatorAlert) -> tuple[str, str]:
    """The subject and text: what changed and when, never a secret."""
    left = alert.codes_left
    codes = f"{left} {'code is' if left == 1 else 'codes are'} left."
    when = alert.at.strftime("%d %B %Y at %H:%M UTC")
    what = WHAT[alert.change].format(clinic=WHOSE, left=codes)
    return SUBJECTS[alert.change], f"{what}\n\nThis happened on {when}.\n\n{IF_NOT_YOU}\n"


async def send(mail: PlatformMail, alerts: list[OperatorAlert]) -> None:
    """Send each alert; a failure is logged (ids and a reason, never the address) and the
    rest are still sent."""
    for alert in alerts:
        bound = {"alert_id": str(alert.id), "operator_id": str(alert.operator_id)}
        reason = await _deliver(mail, alert)
        if reason:
            log.error("operator_alert_not_sent", reason=reason, change=alert.change.value, **bound)
        else:
            log.info("operator_alert_sent", change=alert.change.value, **bound)


async def _deliver(mail: PlatformMail, alert: OperatorAlert) -> str:
    """Send, trying again after a relay's passing failure; why it was not sent, or ""."""
    subject, text = message(alert)
    reason = ""
    for wait in (0.0, *RETRY_WAITS):
        await asyncio.sleep(wait)
        try:  # the same Message-ID each time: a receiver drops a second copy
            await mail.send(to=alert.address, subject=subject, text=text, key=str(alert.id))
            return ""
        except TemporaryFailure as exc:  # a lost answer too
            reason = exc.reason
        except TimeoutError:
            reason = "the relay did not answer in time"
        except Exception as exc:  # refused, or the plugin's own fault: trying again won't help
            return getattr(exc, "reason", "") or type(exc).__name__
    return reason


def _committed(session: Any) -> None:
    session.info[DUE].extend(session.info[PENDING])
    session.info[PENDING] = []


def _rolled_back(session: Any) -> None:
    session.info[PENDING] = []
