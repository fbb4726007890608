"""People: consumers, Professionals, clinic admins (per tenant) and platform operators."""
