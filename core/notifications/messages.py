"""The words of each message. Kept deliberately short of detail: a text on a lock screen
shows the clinic and the time, never the Professional, the consultation or a health hint."""

from __future__ import annotations

from dataclasses import dataclass

SMS_TEMPLATES = {
    "booking_confirmed": "{clinic}: your appointment on {when} is booked. Details: {link}",
    "payment_confirmed": "{clinic}: thank you, your appointment on {when} is paid and confirmed. "
    "Details: {link}",
    "reminder": "{clinic}: a reminder of your appointment {when}. Details: {link}",
    "cancelled": "{clinic}: your appointment on {when} is cancelled.{refund}",
    "rescheduled": "{clinic}: your appointment is moved to {when}. Details: {link}",
    "help": "{clinic}: appointment messages. Reply STOP to stop them, START to have them again. "
    "Help: {contact}",
}

EMAIL_SUBJECTS = {
    "booking_confirmed": "Your appointment is booked",
    "payment_confirmed": "Your appointment is paid and confirmed",
    "reminder": "Reminder: your appointment {when}",
    "cancelled": "Your appointment is cancelled",
    "rescheduled": "Your appointment is moved to {when}",
}

# Emails say who, when (the clinic's time), and how or where; the .ics adds it to a calendar.
_DETAILS = "With: {professional}\nWhen: {when} ({zone} time)\nHow: {how}\n\n"
_CALENDAR = "The attached appointment.ics adds it to your calendar.\n"

EMAIL_BODIES = {
    "booking_confirmed": "Your appointment with {clinic} on {when} is booked.\n\n"
    + _DETAILS
    + "See the details, complete anything outstanding, move or cancel: {link}\n"
    + _CALENDAR,
    "payment_confirmed": "Thank you: your payment was received and your appointment with "
    "{clinic} on {when} is confirmed.\n\n" + _DETAILS + "See the details: {link}\n" + _CALENDAR,
    "reminder": "This is a reminder of your appointment with {clinic} {when}.\n\n"
    + _DETAILS
    + "See the details and how to join: {link}\n"
    + _CALENDAR,
    "rescheduled": "Your appointment with {clinic} is moved to {when}.\n\n"
    + _DETAILS
    + "See the details: {link}\n"
    + "The attached appointment.ics replaces the old time in your calendar.\n",
    "cancelled": "Your appointment with {clinic} on {when} is cancelled.{refund}\n\n"
    "Book another time: {link}\n",
}


@dataclass(frozen=True)
class Facts:
    """What a message may say, all of it about the appointment, nothing about health."""

    clinic: str
    when: str
    link: str
    contact: str = ""
    refund: str = ""
    professional: str = ""  # emails only: a text on a lock screen never names them
    how: str = ""
    zone: str = ""


def sms_text(template: str, facts: Facts) -> str:
    return SMS_TEMPLATES[template].format(**vars(facts))


def email_text(template: str, facts: Facts) -> tuple[str, str]:
    subject = EMAIL_SUBJECTS[template].format(**vars(facts))
    body = EMAIL_BODIES[template].format(**vars(facts))
    footer = f"\n--\n{facts.clinic}\nThis message was sent about an appointment you booked.\n"
    return subject, body + footer
