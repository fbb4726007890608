"""Staff sign-in through the clinic's own identity provider (OpenID Connect, with authlib).

A clinic admin names the provider (issuer, client id and secret, the staff's email domain);
staff then sign in there and come back signed in to the account an admin invited with the
same, verified, email. The platform's own two-step sign-in still applies unless the provider
says it asked for a second factor itself (``amr``).
"""
