"""A fake Stripe: Connect accounts, Checkout Sessions, refunds and signed Connect webhooks.

Shaped by the official contract subset (shared/contracts/stripe-connect-checkout.openapi.json
for requests, stripe-objects.fixtures.json for objects: every object carries every field the
fixtures list) for what ``payments_stripe`` uses, so the real SDK talks to it over real sockets.
It speaks one API version, ``API_VERSION``, and refuses a request that does not name it in
``Stripe-Version`` as Stripe refuses an invalid version. It keeps Stripe's rules that bite in
production: a Checkout Session's ``expires_at`` between 30 minutes and 24 hours after its
creation, and idempotency keys remembered for 24 hours, on a clock tests can move
(``advance``). Tests run it with ``harness.start(fake.app)``; the development sandbox mounts
``fake.app`` under a prefix (``/-/sandbox/stripe``), and the hosted checkout and onboarding
pages then live under that prefix too.

Known simplifications: sessions do not expire by themselves (call ``expire``), prices and
customers are not objects of their own, only ``mode=payment`` is supported, and a request
without ``Stripe-Version`` is refused (Stripe would use the account's default version).

``fake.py`` holds ``FakeStripe`` (its state, what a person does, the events it sends);
``api.py`` and ``operations.py`` are the API, ``pages.py`` the hosted pages, all working on
that one state; ``params.py``, ``errors.py``, ``objects.py`` and ``state.py`` are their parts.
"""

from __future__ import annotations

from praxis.core.sandbox.stripe.api import API_VERSION, API_VERSIONS, IDEMPOTENCY_WINDOW
from praxis.core.sandbox.stripe.errors import StripeFault, invalid, mask, missing, no_such
from praxis.core.sandbox.stripe.fake import FakeStripe
from praxis.core.sandbox.stripe.objects import new_id, now
from praxis.core.sandbox.stripe.params import (
    ANY,
    LEAF,
    LIST,
    MAP,
    Params,
    Spec,
    check_shape,
    decode_form,
    fields,
    param_name,
)
from praxis.core.sandbox.stripe.state import ReceivedRequest, WebhookEndpoint

__all__ = [
    "ANY",
    "API_VERSION",
    "API_VERSIONS",
    "IDEMPOTENCY_WINDOW",
    "LEAF",
    "LIST",
    "MAP",
    "FakeStripe",
    "Params",
    "ReceivedRequest",
    "Spec",
    "StripeFault",
    "WebhookEndpoint",
    "check_shape",
    "decode_form",
    "fields",
    "invalid",
    "mask",
    "missing",
    "new_id",
    "no_such",
    "now",
    "param_name",
]
