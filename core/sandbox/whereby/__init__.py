"""A stateful fake of Whereby Embedded: the meetings API v1, signed webhooks, sandbox rooms.

Built from the official contract (whereby-meetings.openapi.json: ``/meetings`` only) and the
docs.whereby.com webhooks page. ``harness.start(fake.app)`` serves it at the root; the sandbox
mounts the same app under ``/-/sandbox/whereby``. The REST API lives under ``/v1``, so a
provider's ``api_base_url`` is ``<fake url>/v1``. Each API key is one organisation, with its
own meetings, webhook endpoint and secret.

``fake.py`` holds ``FakeWhereby`` (organisations, meetings, joining and leaving, webhooks);
``api.py`` is the REST API and ``pages.py`` the room pages, both working on that one state;
``params.py``, ``meetings.py``, ``webhooks.py`` and ``state.py`` are their parts.
"""

from __future__ import annotations

from praxis.core.sandbox.whereby.fake import FakeWhereby
from praxis.core.sandbox.whereby.meetings import FakeMeeting, Participant, Role, iso
from praxis.core.sandbox.whereby.params import ContractError
from praxis.core.sandbox.whereby.state import Organisation, ReceivedRequest
from praxis.core.sandbox.whereby.webhooks import sign, webhook_request

__all__ = [
    "ContractError",
    "FakeMeeting",
    "FakeWhereby",
    "Organisation",
    "Participant",
    "ReceivedRequest",
    "Role",
    "iso",
    "sign",
    "webhook_request",
]
