"""Local fakes of Stripe, Whereby and Twilio that honour their official contracts.

The tests run the real plugins and SDKs against them on 127.0.0.1 (``harness.start``); in
development the app serves them at ``/-/sandbox/<provider>/`` (``mount``), so the demo clinic
works without any provider account. Plugin authors use ``harness`` through
``praxis.core.testing``.
"""
