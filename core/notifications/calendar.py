"""An appointment as an iCalendar event (RFC 5545, built with ``icalendar``): attached to
the booking emails and offered on the appointment page as "Add to calendar".

It says who, when and how or where, and links to the appointment page; never anything about
health. One UID per appointment, so a moved appointment updates the event it replaces.
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from praxis.core.booking.models import Appointment, AppointmentStatus, ConsultationMode
from praxis.core.booking.policy import where
from praxis.tenants.directory import TenantInfo

CONTENT_TYPE = "text/calendar"
FILENAME = "appointment.ics"


def how(tenant: TenantInfo, appointment: Appointment) -> str:
    """How it happens, in words: by video (the link on the appointment page) or the address."""
    if appointment.mode == ConsultationMode.VIDEO.value:
        return "By video: join from your appointment page a few minutes before the start."
    return f"In person at {where(tenant)}."


def ics(
    tenant: TenantInfo, appointment: Appointment, *, link: str, host: str, now: datetime
) -> bytes:
    """The .ics of one appointment (loaded with its Professional and consultation type)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Praxis//Appointments//EN")
    calendar.add("version", "2.0")
    cancelled = appointment.status not in (
        AppointmentStatus.BOOKED.value,
        AppointmentStatus.AWAITING_PAYMENT.value,
    )
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.id}@{host}")
    event.add("dtstamp", now)
    # Later files replace earlier ones (a moved appointment): the sequence only grows.
    event.add("sequence", int(now.timestamp()))
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    kind = appointment.consultation_type.name
    event.add("summary", f"{kind} with {appointment.professional.display_name} ({tenant.name})")
    if appointment.mode == ConsultationMode.VIDEO.value:
        event.add("location", "Video consultation")
    else:
        event.add("location", where(tenant))
    event.add("description", f"{how(tenant, appointment)}\nDetails: {link}")
    event.add("url", link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
