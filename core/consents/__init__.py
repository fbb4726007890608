"""Consents per person, purpose and channel: append-only records, the current state derived
(P17, P18, P35). Below the domains that ask it (intake, notifications, campaigns)."""
