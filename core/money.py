"""Amounts in minor units (pence), shown in the tenant's locale."""

from __future__ import annotations

from babel.numbers import format_currency, get_currency_precision


def money(minor: int, currency: str, locale: str = "en_GB") -> str:
    return str(
        format_currency(minor / 10 ** get_currency_precision(currency), currency, locale=locale)
    )
