"""Durable side effects: jobs written in the business transaction, run after it commits.

``queue`` holds the table and the queue's operations, ``handlers`` what runs a topic,
``events`` the domain events announced through it, ``runner`` the claiming and settling.
Domains register their own handlers and subscribers; the worker (``praxis.core.worker``)
sits above them all.
"""

from praxis.core.outbox.events import SUBSCRIBERS, Event, Happened, announce, subscribe
from praxis.core.outbox.handlers import HANDLERS, Handler, Job, JobServices, handles
from praxis.core.outbox.queue import (
    JobStatus,
    OutboxJob,
    RetryPolicy,
    add_jobs,
    claim,
    dead_letter,
    dead_letters,
    enqueue,
    finish,
    is_known,
    job_row,
    retry_dead,
    retry_later,
    stage,
)
from praxis.core.outbox.runner import drain, run_due, run_one

__all__ = [
    "HANDLERS",
    "SUBSCRIBERS",
    "Event",
    "Handler",
    "Happened",
    "Job",
    "JobServices",
    "JobStatus",
    "OutboxJob",
    "RetryPolicy",
    "add_jobs",
    "announce",
    "claim",
    "dead_letter",
    "dead_letters",
    "drain",
    "enqueue",
    "finish",
    "handles",
    "is_known",
    "job_row",
    "retry_dead",
    "retry_later",
    "run_due",
    "run_one",
    "stage",
    "subscribe",
]
