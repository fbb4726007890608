"""Who may use each route of the app: the table tests/functional/test_route_access.py asks by.

Keyed by method and path template as the router spells them (API operations with their
/api/v1 prefix). A route added to the app and missing here fails that test, naming it; so
does an entry here whose route is gone. Written from the registrations (``access=`` of
core/web/pages/*.py and core/web/api/*.py), not read from them: the test then checks that
the app answers as this table says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Who(enum.Enum):
    PUBLIC = "anyone"
    SIGNED_IN = "any account of the clinic"
    CONSUMER = "the clinic's consumers"
    PROFESSIONAL = "the clinic's Professionals"
    STAFF = "the clinic's Professionals and admins"
    FRONT_DESK = "the clinic's front desk and admins"
    CLINIC_ADMIN = "the clinic's admins"
    OPERATOR = "platform operators"
    WEBHOOK = "a provider, by its signature: no account"


@dataclass(frozen=True)
class Rule:
    """Who may use a route on a clinic's site and on the platform's (None: it answers 404)."""

    clinic: Who | None = None
    platform: Who | None = None
    development_only: bool = False  # anywhere else it answers 404 to everyone


def clinic(who: Who) -> Rule:
    return Rule(clinic=who)


def platform(who: Who) -> Rule:
    return Rule(platform=who)


PUBLIC = clinic(Who.PUBLIC)
SIGNED_IN = clinic(Who.SIGNED_IN)
CONSUMER = clinic(Who.CONSUMER)
PROFESSIONAL = clinic(Who.PROFESSIONAL)
ADMIN = clinic(Who.CLINIC_ADMIN)
DESK = clinic(Who.FRONT_DESK)
OPERATOR = platform(Who.OPERATOR)

ROUTES: dict[tuple[str, str], Rule] = {
    # The portal: anyone may look, consumers book.
    ("GET", "/"): Rule(clinic=Who.PUBLIC, platform=Who.PUBLIC),  # the platform's sends on
    ("GET", "/professionals"): PUBLIC,
    ("GET", "/professionals/{professional_id:uuid}"): PUBLIC,
    ("GET", "/professionals/{professional_id:uuid}/book"): PUBLIC,
    ("GET", "/professionals/{professional_id:uuid}/book/review"): CONSUMER,
    ("GET", "/appointments"): CONSUMER,
    ("POST", "/appointments"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}"): CONSUMER,
    ("POST", "/appointments/{appointment_id:uuid}/cancel"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/cancel"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/reschedule"): CONSUMER,
    ("POST", "/appointments/{appointment_id:uuid}/reschedule"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/calendar.ics"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/status"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/pay"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/receipt"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/intake"): CONSUMER,
    ("POST", "/appointments/{appointment_id:uuid}/intake"): CONSUMER,
    ("GET", "/appointments/{appointment_id:uuid}/join"): CONSUMER,
    # Signing up, in and out.
    ("GET", "/register"): PUBLIC,
    ("POST", "/register"): PUBLIC,
    ("GET", "/join"): PUBLIC,
    ("POST", "/join"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/login/code"): PUBLIC,  # the second-factor step: for whoever is half signed in
    ("POST", "/login/code"): PUBLIC,
    # Staff sign-in at the clinic's own provider: 404 where the clinic has none.
    ("GET", "/login/sso"): PUBLIC,
    ("GET", "/login/sso/callback"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/logout/everywhere"): SIGNED_IN,
    ("GET", "/password/forgot"): PUBLIC,
    ("POST", "/password/forgot"): PUBLIC,
    ("GET", "/password/reset"): PUBLIC,
    ("POST", "/password/reset"): PUBLIC,
    ("GET", "/platform/login"): platform(Who.PUBLIC),
    ("POST", "/platform/login"): platform(Who.PUBLIC),
    ("GET", "/platform/password/forgot"): platform(Who.PUBLIC),
    ("POST", "/platform/password/forgot"): platform(Who.PUBLIC),
    ("GET", "/platform/password/reset"): platform(Who.PUBLIC),
    ("POST", "/platform/password/reset"): platform(Who.PUBLIC),
    ("GET", "/platform/login/code"): platform(Who.PUBLIC),
    ("POST", "/platform/login/code"): platform(Who.PUBLIC),
    # Operators' sign-in at the platform's provider: 404 unless PLATFORM_OIDC_* are set.
    ("GET", "/platform/login/sso"): platform(Who.PUBLIC),
    ("GET", "/platform/login/sso/callback"): platform(Who.PUBLIC),
    ("POST", "/platform/logout"): platform(Who.PUBLIC),
    ("POST", "/platform/logout/everywhere"): OPERATOR,
    # A person's own account.
    ("GET", "/account"): SIGNED_IN,
    ("GET", "/account/security"): SIGNED_IN,
    ("POST", "/account/security/start"): SIGNED_IN,
    ("POST", "/account/security/confirm"): SIGNED_IN,
    ("POST", "/account/security/recovery"): SIGNED_IN,
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("GET", "/platform/account/security"): OPERATOR,
    ("POST", "/platform/account/security/start"): OPERATOR,
    ("POST", "/platform/account/security/confirm"): OPERATOR,
    ("POST", "/platform/account/security/recovery"): OPERATOR,
    ("GET", "/platform/account/password"): OPERATOR,
    ("POST", "/platform/account/password"): OPERATOR,
    ("GET", "/account/privacy"): CONSUMER,
    ("POST", "/account/privacy"): CONSUMER,
    ("POST", "/account/privacy/object"): CONSUMER,
    ("GET", "/account/privacy/for/{person_id}"): CONSUMER,
    ("POST", "/account/privacy/for/{person_id}"): CONSUMER,
    ("GET", "/account/details"): CONSUMER,
    ("POST", "/account/details"): CONSUMER,
    ("GET", "/account/details/for/{person_id:uuid}"): CONSUMER,
    ("POST", "/account/details/for/{person_id:uuid}"): CONSUMER,
    ("GET", "/account/export"): CONSUMER,
    ("POST", "/account/export"): CONSUMER,
    ("GET", "/account/export/{export_id:uuid}/download"): CONSUMER,
    ("GET", "/account/close"): CONSUMER,
    ("POST", "/account/close"): CONSUMER,
    ("GET", "/account/erase"): CONSUMER,
    ("POST", "/account/erase"): CONSUMER,
    ("GET", "/account/restrict"): CONSUMER,
    ("POST", "/account/restrict"): CONSUMER,
    ("GET", "/account/disclosures"): CONSUMER,
    ("GET", "/account/requests"): CONSUMER,
    # The Professional's workspace.
    ("GET", "/workspace"): PROFESSIONAL,
    ("GET", "/workspace/hours"): PROFESSIONAL,
    ("POST", "/workspace/hours"): PROFESSIONAL,
    ("GET", "/workspace/hours/{rule_id:uuid}"): PROFESSIONAL,
    ("POST", "/workspace/hours/{rule_id:uuid}"): PROFESSIONAL,
    ("POST", "/workspace/hours/{rule_id:uuid}/remove"): PROFESSIONAL,
    ("GET", "/workspace/diary"): PROFESSIONAL,
    ("POST", "/workspace/days"): PROFESSIONAL,
    ("POST", "/workspace/days/{change_id:uuid}/remove"): PROFESSIONAL,
    ("GET", "/workspace/photo"): PROFESSIONAL,
    ("POST", "/workspace/photo"): PROFESSIONAL,
    ("POST", "/workspace/photo/remove"): PROFESSIONAL,
    ("GET", "/workspace/consultations"): PROFESSIONAL,
    ("POST", "/workspace/consultations"): PROFESSIONAL,
    ("POST", "/workspace/consultations/{type_id:uuid}/retire"): PROFESSIONAL,
    ("GET", "/workspace/appointments/{appointment_id:uuid}"): PROFESSIONAL,
    ("GET", "/workspace/appointments/{appointment_id:uuid}/intake"): PROFESSIONAL,
    ("GET", "/workspace/appointments/{appointment_id:uuid}/intake.json"): PROFESSIONAL,
    ("GET", "/workspace/appointments/{appointment_id:uuid}/host"): PROFESSIONAL,
    # The clinic's administration.
    ("GET", "/admin"): ADMIN,
    ("GET", "/admin/professionals"): ADMIN,
    ("POST", "/admin/professionals/{professional_id:uuid}/approve"): ADMIN,
    ("POST", "/admin/professionals/{professional_id:uuid}/reject"): ADMIN,
    ("GET", "/admin/professionals/{professional_id:uuid}/photo"): ADMIN,
    ("POST", "/admin/professionals/{professional_id:uuid}/photo"): ADMIN,
    ("POST", "/admin/professionals/{professional_id:uuid}/photo/remove"): ADMIN,
    # The clinic's staff (core/web/pages/staff.py): a patient's id is no staff's, so 404.
    ("GET", "/admin/staff"): ADMIN,
    ("POST", "/admin/staff/invite"): ADMIN,
    ("GET", "/admin/staff/{person_id:uuid}"): ADMIN,
    ("POST", "/admin/staff/{person_id:uuid}/roles"): ADMIN,
    ("POST", "/admin/staff/{person_id:uuid}/remove"): ADMIN,
    ("POST", "/admin/staff/{person_id:uuid}/invite-back"): ADMIN,
    # Invitations not accepted yet: another clinic's invitation id is not found here (404).
    ("POST", "/admin/staff/invitations/{invitation_id:uuid}/send-again"): ADMIN,
    ("POST", "/admin/staff/invitations/{invitation_id:uuid}/cancel"): ADMIN,
    # The front desk (core/web/pages/desk.py): patients' records and booking for them.
    ("GET", "/desk"): DESK,
    ("GET", "/desk/patients/new"): DESK,
    ("POST", "/desk/patients/new"): DESK,
    ("GET", "/desk/patients/{person_id:uuid}"): DESK,
    ("POST", "/desk/patients/{person_id:uuid}/book"): DESK,
    ("POST", "/desk/patients/{person_id:uuid}/appointments/{appointment_id:uuid}/reschedule"): DESK,
    ("POST", "/desk/patients/{person_id:uuid}/appointments/{appointment_id:uuid}/cancel"): DESK,
    ("POST", "/desk/patients/{person_id:uuid}/claim"): DESK,
    ("GET", "/claim"): PUBLIC,  # the patient's link to claim their record: the token decides
    ("POST", "/claim"): PUBLIC,
    ("GET", "/admin/appointments"): ADMIN,
    ("GET", "/admin/appointments.csv"): ADMIN,
    ("GET", "/admin/analytics"): ADMIN,
    ("GET", "/admin/campaigns"): ADMIN,
    ("POST", "/admin/campaigns"): ADMIN,
    ("POST", "/admin/campaigns/preview"): ADMIN,
    ("GET", "/admin/proxies"): ADMIN,
    ("POST", "/admin/proxies"): ADMIN,
    ("POST", "/admin/proxies/{authority_id}/end"): ADMIN,
    ("GET", "/admin/consents"): ADMIN,
    ("GET", "/admin/consents/{person_id}"): ADMIN,
    ("POST", "/admin/consents/{person_id}"): ADMIN,
    ("GET", "/admin/corrections"): ADMIN,
    ("GET", "/admin/corrections/new"): ADMIN,
    ("POST", "/admin/corrections/new"): ADMIN,
    ("GET", "/admin/ledger"): ADMIN,
    ("GET", "/admin/ledger.csv"): ADMIN,
    ("GET", "/admin/ledger.json"): ADMIN,
    ("GET", "/admin/ledger/new"): ADMIN,
    ("POST", "/admin/ledger/new"): ADMIN,
    ("GET", "/admin/booking-policy"): ADMIN,
    ("POST", "/admin/booking-policy"): ADMIN,
    ("GET", "/admin/holds"): ADMIN,
    ("POST", "/admin/holds"): ADMIN,
    ("POST", "/admin/holds/{hold_id:uuid}/lift"): ADMIN,
    ("GET", "/admin/requests"): ADMIN,
    ("POST", "/admin/requests"): ADMIN,
    ("POST", "/admin/requests/{request_id:uuid}/extend"): ADMIN,
    ("POST", "/admin/requests/{request_id:uuid}/close"): ADMIN,
    ("GET", "/admin/retention"): ADMIN,
    ("GET", "/admin/security"): ADMIN,
    ("GET", "/admin/branding"): ADMIN,
    ("POST", "/admin/branding"): ADMIN,
    ("GET", "/admin/branding/preview.css"): ADMIN,
    ("POST", "/admin/branding/logo"): ADMIN,
    ("POST", "/admin/branding/logo/remove"): ADMIN,
    ("GET", "/admin/sign-in"): ADMIN,
    ("POST", "/admin/sign-in"): ADMIN,
    ("GET", "/admin/providers"): ADMIN,
    ("POST", "/admin/providers/{kind}"): ADMIN,
    ("POST", "/admin/providers/{kind}/settings"): ADMIN,
    ("POST", "/admin/providers/{kind}/test"): ADMIN,
    ("GET", "/admin/payments"): ADMIN,
    ("POST", "/admin/payments/connect"): ADMIN,
    ("GET", "/admin/payments/{payment_id:uuid}/receipt"): ADMIN,
    ("GET", "/admin/questionnaire"): ADMIN,
    ("POST", "/admin/questionnaire"): ADMIN,
    ("GET", "/admin/questionnaire.json"): ADMIN,
    ("GET", "/admin/outbox"): ADMIN,
    ("POST", "/admin/outbox/{job_id:uuid}/retry"): ADMIN,
    ("GET", "/admin/privacy"): ADMIN,
    ("POST", "/admin/privacy"): ADMIN,
    ("GET", "/admin/privacy/notice"): ADMIN,
    ("POST", "/admin/privacy/notice"): ADMIN,
    ("GET", "/admin/announcements"): ADMIN,
    ("POST", "/admin/announcements"): ADMIN,
    ("GET", "/admin/exit"): ADMIN,
    ("POST", "/admin/exit/export"): ADMIN,
    ("GET", "/admin/exit/export.zip"): ADMIN,
    # The platform operator's site.
    ("GET", "/platform"): OPERATOR,
    ("GET", "/platform/plugins"): OPERATOR,
    ("GET", "/platform/tenants/{tenant_id:uuid}"): OPERATOR,
    ("GET", "/platform/tenants/new"): OPERATOR,
    ("POST", "/platform/tenants/new"): OPERATOR,
    ("POST", "/platform/tenants/{tenant_id:uuid}/suspend"): OPERATOR,
    ("POST", "/platform/tenants/{tenant_id:uuid}/resume"): OPERATOR,
    # The public directory and its contact page, on the bare platform domain.
    ("GET", "/contact"): platform(Who.PUBLIC),
    # A staff invitation's link, and the clinic admin's choice to be in the directory.
    ("GET", "/invitation"): PUBLIC,
    ("POST", "/invitation"): PUBLIC,
    ("GET", "/admin/directory"): ADMIN,
    ("POST", "/admin/directory"): ADMIN,
    ("POST", "/platform/tenants/{tenant_id:uuid}/providers/{plugin}"): OPERATOR,
    ("POST", "/platform/tenants/{tenant_id:uuid}/domains/verify"): OPERATOR,
    ("POST", "/platform/tenants/{tenant_id:uuid}/domains/unverify"): OPERATOR,
    ("GET", "/platform/tenants/{tenant_id:uuid}/exit"): OPERATOR,
    ("POST", "/platform/tenants/{tenant_id:uuid}/exit"): OPERATOR,
    ("POST", "/platform/tenants/{tenant_id:uuid}/jobs/retry"): OPERATOR,
    # Privacy notices, cookies, news and unsubscribing: anyone, by link.
    ("GET", "/privacy"): PUBLIC,
    ("GET", "/privacy/versions/{number:int}"): PUBLIC,
    ("POST", "/privacy/acknowledge"): CONSUMER,
    ("GET", "/privacy/cookies"): PUBLIC,
    ("POST", "/privacy/cookies"): PUBLIC,
    ("GET", "/platform/privacy"): platform(Who.PUBLIC),
    ("GET", "/platform/privacy/cookies"): platform(Who.PUBLIC),
    ("GET", "/news"): PUBLIC,
    ("POST", "/news"): PUBLIC,
    ("GET", "/news/confirm/{token}"): PUBLIC,
    ("POST", "/news/confirm/{token}"): PUBLIC,
    ("GET", "/unsubscribe/{token}"): PUBLIC,
    ("POST", "/unsubscribe/{token}"): PUBLIC,
    # Machine endpoints. /-/plugins answers 404 to all but a clinic admin or an operator.
    ("GET", "/-/plugins"): Rule(clinic=Who.CLINIC_ADMIN, platform=Who.OPERATOR),
    ("GET", "/-/mailbox"): Rule(Who.STAFF, Who.OPERATOR, development_only=True),
    ("POST", "/-/plugins/{plugin}/webhook"): clinic(Who.WEBHOOK),
    ("POST", "/-/plugins/{plugin}/webhook/{topic}"): clinic(Who.WEBHOOK),
    ("GET", "/-/health"): Rule(clinic=Who.PUBLIC, platform=Who.PUBLIC),
    ("GET", "/-/logo"): PUBLIC,  # the clinic's uploaded logo; 404 until there is one
    # An approved Professional's photo; 404 without one, or for anyone not approved.
    ("GET", "/-/photos/{professional_id:uuid}"): PUBLIC,
    # The same in the public directory: only from a clinic that is listed.
    ("GET", "/-/photos/{slug}/{professional_id:uuid}"): platform(Who.PUBLIC),
    ("GET", "/-/brand.css"): Rule(clinic=Who.PUBLIC, platform=Who.PUBLIC),
    # The JSON API (clinic sites only).
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("POST", "/api/v1/auth/logout-everywhere"): SIGNED_IN,
    ("POST", "/api/v1/consumers"): PUBLIC,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("PATCH", "/api/v1/me"): CONSUMER,
    ("DELETE", "/api/v1/me"): CONSUMER,
    ("POST", "/api/v1/me/close"): CONSUMER,
    ("POST", "/api/v1/me/restriction"): CONSUMER,
    ("GET", "/api/v1/me/consents"): CONSUMER,
    ("POST", "/api/v1/me/consents"): CONSUMER,
    ("GET", "/api/v1/me/export"): CONSUMER,
    ("POST", "/api/v1/me/export"): CONSUMER,
    ("GET", "/api/v1/me/export/{export_id:uuid}/download"): CONSUMER,
    ("GET", "/api/v1/professionals"): PUBLIC,
    ("GET", "/api/v1/professionals/{professional_id:uuid}"): PUBLIC,
    ("GET", "/api/v1/professionals/{professional_id:uuid}/slots"): PUBLIC,
    ("GET", "/api/v1/appointments"): CONSUMER,
    ("POST", "/api/v1/appointments"): CONSUMER,
    ("GET", "/api/v1/appointments/{appointment_id:uuid}"): CONSUMER,
    ("POST", "/api/v1/appointments/{appointment_id:uuid}/cancel"): CONSUMER,
}
