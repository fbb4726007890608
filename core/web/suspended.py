"""The page a suspended clinic's portal shows: unavailable for now, not gone (no 404). Sign-in
is closed with every other page; nothing is deleted, and resuming restores the portal."""

from __future__ import annotations

from html import escape

from praxis.tenants.directory import TenantInfo


def suspended_page(site: object) -> bytes | None:
    """The page to answer with instead of the portal, or None while the clinic is running."""
    if not isinstance(site, TenantInfo) or not site.suspended:  # nearly every request
        return None
    name = escape(site.name)
    contact = escape(site.controller.dpo_contact or "")
    ask = f" If you need your records meanwhile, write to {contact}." if contact else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{name} is temporarily unavailable</title></head><body><main>"
        f"<h1>{name} is temporarily unavailable</h1>"
        "<p>This site is closed for now: nobody can sign in or book. Nothing has been deleted,"
        f" and it will open again here.{ask}</p>"
        "</main></body></html>"
    ).encode()
