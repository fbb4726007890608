"""What the fake keeps besides messages: the clinics' numbers and the requests it received."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str  # from the API root, e.g. /2010-04-01/Accounts/AC.../Messages.json
    query: dict[str, str]
    form: dict[str, str]
    username: str | None  # the basic-auth user: the Account SID
    authenticated: bool


@dataclass(frozen=True)
class ClinicNumber:
    number: str
    sms_url: str  # its "A message comes in" webhook
    account_sid: str
    messaging_service_sid: str | None = None
