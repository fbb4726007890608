"""What booking announces: other domains (messages, video, payments) subscribe to these.

Booking knows none of them: it writes the announcement in the transaction that confirms or
cancels, and each subscriber decides what follows (``praxis.core.outbox.events``).
"""

from __future__ import annotations

from praxis.core.outbox import Event

APPOINTMENT_REQUESTED = Event(
    "appointment.requested",
    "A consultation type is chosen to be booked (its free times listed, or one of them asked "
    "for), before anything is held. A subscriber may refuse it by raising Conflict with a "
    "sentence for the consumer: payments does, for a paid consultation at a clinic that "
    "cannot take payment online yet. ``paying``: the consultation is paid online.",
    ("professional_id", "consultation_type_id", "paying"),
)
APPOINTMENT_CONFIRMED = Event(
    "appointment.confirmed",
    "An appointment is booked for good: at booking when free, when its payment arrived when "
    "paid. ``mode`` is video or in_person; ``paid`` says which of the two it was.",
    ("appointment_id", "mode", "paid"),
)
APPOINTMENT_CANCELLED = Event(
    "appointment.cancelled",
    "An appointment was cancelled (by the consumer, or ``by_clinic``); ``was_confirmed`` is "
    "false for a time that was only held, awaiting payment; ``tell`` is false when nobody "
    "is to be told (the consumer is being erased).",
    ("appointment_id", "mode", "by_clinic", "was_confirmed", "tell"),
)
APPOINTMENT_RESCHEDULED = Event(
    "appointment.rescheduled",
    "The consumer moved a live appointment to another time: the same appointment (its payment "
    "stays), its diary holds moved. ``was`` is the old start (ISO 8601, UTC); ``confirmed`` "
    "is false for a time only held, awaiting payment (nobody is told of it yet).",
    ("appointment_id", "mode", "was", "confirmed"),
)
