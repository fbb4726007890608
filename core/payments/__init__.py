"""Payments: connected accounts, checkouts, billing records and refunds."""
