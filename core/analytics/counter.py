"""Counting a page view costs a dict update: views are tallied in process and written in the
background every few seconds, each write adding to the day's totals (several processes may
count the same page). Counts are statistics: a crash loses at most the last few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
import uuid
from datetime import date

import structlog
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError

from praxis.core.analytics.models import PATH_MAX, VisitCount
from praxis.core.db import table_of
from praxis.core.tenancy import Database, insert_rows, run, update_rows

log = structlog.get_logger("praxis.analytics")

WRITE_EVERY_SECONDS = 10.0
MOST_PENDING = 5_000  # distinct (clinic, day, page) tallies held before writing early
ID = "{id}"
_UUID = re.compile(r"^[0-9a-fA-F]{8}(?:-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.~=%-]{16,}$")  # sealed links end in base64's "=" padding
_WORDS = re.compile(r"^[a-z-]+$")

_TABLE = table_of(VisitCount)
_ADD = update_rows(
    _TABLE,
    where=[_TABLE.c.day == bindparam("on_day"), _TABLE.c.path == bindparam("at_path")],
    values={
        "views": _TABLE.c.views + bindparam("more_views"),
        "visitors": _TABLE.c.visitors + bindparam("more_visitors"),
    },
)
_NEW = insert_rows(_TABLE)

Key = tuple[uuid.UUID, date, str]


@functools.lru_cache(maxsize=4096)  # the same pages come back again and again
def page_of(path: str) -> str:
    """The page as counted: no query string, and every segment that is a number, a UUID or
    a token replaced by {id}, so no path names a person, an appointment or a link sent."""
    parts = [ID if _is_id(part) else part for part in path.split("?", 1)[0].split("/")]
    return "/".join(parts)[:PATH_MAX] or "/"


def _is_id(part: str) -> bool:
    if part.isdigit() or _UUID.match(part):
        return True
    return bool(_TOKEN.match(part)) and not _WORDS.match(part)  # a long slug is a page


class VisitCounter:
    """This process's tallies not yet written: views and new visitors per clinic, day, page."""

    def __init__(self, database: Database, *, every: float = WRITE_EVERY_SECONDS) -> None:
        self._database = database
        self._every = every
        self._pending: dict[Key, list[int]] = {}
        self._due = time.monotonic() + every
        self._writing: asyncio.Task[None] | None = None

    def count(self, tenant_id: uuid.UUID, day: date, page: str, *, new_visitor: bool) -> None:
        """One view of ``page`` (already normalised); ``new_visitor``: their first today."""
        key = (tenant_id, day, page)
        tally = self._pending.get(key)
        if tally is None:
            tally = self._pending[key] = [0, 0]
        tally[0] += 1
        if new_visitor:
            tally[1] += 1
        if self._writing is None and (
            len(self._pending) >= MOST_PENDING or time.monotonic() >= self._due
        ):
            self._writing = asyncio.get_running_loop().create_task(self._in_background())

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Write everything counted so far (the Visits page, shutdown, tests)."""
        if self._writing is not None:
            await self._writing
        await self._write_pending()

    async def forget(self) -> None:
        """Drop what is not yet written, and stop a write under way (tests start afresh)."""
        if self._writing is not None:
            self._writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writing
            self._writing = None
        self._pending.clear()

    async def _in_background(self) -> None:
        try:
            await self._write_pending()
        finally:
            self._writing = None

    async def _write_pending(self) -> None:
        taken, self._pending = self._pending, {}
        self._due = time.monotonic() + self._every
        by_tenant: dict[uuid.UUID, list[tuple[date, str, list[int]]]] = {}
        for (tenant_id, day, page), tally in taken.items():
            by_tenant.setdefault(tenant_id, []).append((day, page, tally))
        for tenant_id, rows in by_tenant.items():
            try:
                await self._write(tenant_id, rows)
            except Exception as exc:  # statistics: never worth failing a page or the app
                log.warning(
                    "visit_counts_not_saved",
                    tenant_id=str(tenant_id),
                    pages=len(rows),
                    error=type(exc).__name__,
                )

    async def _write(self, tenant_id: uuid.UUID, rows: list[tuple[date, str, list[int]]]) -> None:
        for attempt in (1, 2):  # a second process may have added the same new page first
            try:
                async with self._database.writing(tenant_id) as db:
                    for day, page, (views, visitors) in rows:
                        added = await run(
                            db,
                            _ADD,
                            {
                                "on_day": day,
                                "at_path": page,
                                "more_views": views,
                                "more_visitors": visitors,
                            },
                        )
                        if added.rowcount == 0:
                            await run(
                                db,
                                _NEW,
                                {"day": day, "path": page, "views": views, "visitors": visitors},
                            )
                    await db.commit()
                return
            except IntegrityError:
                if attempt == 2:
                    raise
