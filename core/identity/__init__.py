"""Sign-in through an OpenID Connect provider (with authlib): a clinic's staff through the
clinic's own, platform operators through the platform's.

A clinic admin names the clinic's provider (issuer, client id and secret, the staff's email
domain); the operator names the platform's in the environment (``PLATFORM_OIDC_*``). People
then sign in there and come back signed in to the account that has the same, verified, email.
The platform's own two-step sign-in still applies unless the provider says it asked for a
second factor itself (``amr`` or ``acr``).
"""
