"""What differs per tenant: identity, domains, branding, controller details, policies."""
