"""The Stripe API version this plugin speaks, pinned.

The SDK's default version moves with each of its major releases (pyproject allows several),
and an account's default version is whatever its dashboard says: neither is what this plugin
was written and tested against. So every request names this one in ``Stripe-Version``; the
SDK's types may describe another, but the fields the plugin reads are the same in both. Move
it on deliberately, with the fakes (``praxis.core.sandbox.stripe.API_VERSION``) and the tests.
The Connect webhook endpoint should be created with the same version, so events read alike.
"""

from __future__ import annotations

STRIPE_API_VERSION = "2026-10-28.endive"
