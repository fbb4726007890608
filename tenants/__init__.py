"""What differs per tenant: identity, domains, branding, controller details, policies."""

if __name__ != "praxis.tenants":  # one copy of every module, under its installed name
    raise ImportError("import praxis.tenants, not tenants: see README.md, Packaging")
