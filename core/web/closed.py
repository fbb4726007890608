"""The page a clinic's portal shows once the clinic has left the platform (P29): sign-in is
closed for patients and staff alike, and nothing is deleted yet."""

from __future__ import annotations

from datetime import datetime
from html import escape

from praxis.core.privacy.exit import is_closed
from praxis.tenants.directory import TenantInfo


def closed_page(site: object) -> bytes | None:
    """The page to answer with instead of the portal, or None while the clinic is open."""
    if not isinstance(site, TenantInfo) or site.leaves_on is None:  # nearly every request
        return None
    if not is_closed(site, datetime.now(site.zone).date()):
        return None
    name = escape(site.name)
    left = f"{site.leaves_on:%d %B %Y}"
    contact = escape(site.controller.dpo_contact or "")
    ask = f" Write to {contact} about your records." if contact else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{name} has left Praxis</title></head><body><main>"
        f"<h1>{name} no longer uses this site</h1>"
        f"<p>The clinic left on {left}. Nobody can sign in here any more, patients or staff."
        f"</p><p>Your records are with the clinic, not on this site.{ask}</p>"
        "</main></body></html>"
    ).encode()
