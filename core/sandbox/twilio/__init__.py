"""A fake Twilio Messages API, shaped by Twilio's OpenAPI contract (the Messages paths).

Tests serve it with ``harness.start(fake.app)`` and point the real SDK at it; the development
sandbox mounts the same app under ``/-/sandbox/twilio``, where ``/inbox`` shows what each
phone received and lets you reply from it (STOP, HELP, START...). Control it from Python::

    fake = FakeTwilio()                              # push=True posts webhooks for real
    fake.add_account(ACCOUNT_SID, AUTH_TOKEN)
    fake.add_number("+447700900000", "https://clinic.example/-/plugins/sms_twilio/webhook/inbound")
    fake.unsubscribe("+447700900999")                # a send to it fails with 21610
    fake.fail_delivery("+447700900123", 30003)       # sent, but it ends undelivered
    fake.faults.throttle_next()                      # the next API call gets a 429
    fake.lose_next_response()                        # done, but answered too late
    await fake.send_inbound("+447700900123", "+447700900000", "STOP")
    fake.messages, fake.requests, fake.webhooks.deliveries

``fake.py`` holds ``FakeTwilio`` (its state and controls, a message's progress, the signed
webhooks); ``api.py`` and ``listing.py`` are the Messages API and ``pages.py`` the inbox, all
working on that one state; ``messages.py``, ``errors.py`` and ``state.py`` are their parts.
"""

from __future__ import annotations

from praxis.core.sandbox.twilio.api import SERVICE_SID
from praxis.core.sandbox.twilio.errors import NotModelled, TwilioError
from praxis.core.sandbox.twilio.fake import OPT_IN_WORDS, OPT_OUT_WORDS, POOL_SENDER, FakeTwilio
from praxis.core.sandbox.twilio.messages import API_VERSION, E164, MAX_BODY, FakeMessage, segments
from praxis.core.sandbox.twilio.state import ClinicNumber, ReceivedRequest

__all__ = [
    "API_VERSION",
    "E164",
    "MAX_BODY",
    "OPT_IN_WORDS",
    "OPT_OUT_WORDS",
    "POOL_SENDER",
    "SERVICE_SID",
    "ClinicNumber",
    "FakeMessage",
    "FakeTwilio",
    "NotModelled",
    "ReceivedRequest",
    "TwilioError",
    "segments",
]
