"""What booking announces: other domains (messages, video, payments) subscribe to these.

Booking knows none of them: it writes the announcement in the transaction that confirms or
cancels, and each subscriber decides what follows (``praxis.core.outbox.events``).
"""

from __future__ import annotations

from praxis.core.outbox import Event

APPOINTMENT_CONFIRMED = Event(
    "appointment.confirmed",
    "An appointment is booked for good: at booking when free, when its payment arrived when "
    "paid. ``mode`` is video or in_person; ``paid`` says which of the two it was.",
    ("appointment_id", "mode", "paid"),
)
APPOINTMENT_CANCELLED = Event(
    "appointment.cancelled",
    "An appointment was cancelled (by the consumer, or ``by_clinic``); ``was_confirmed`` is "
    "false for a time that was only held, awaiting payment.",
    ("appointment_id", "mode", "by_clinic", "was_confirmed"),
)
