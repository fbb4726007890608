"""The clinic's look, set by its admins in the browser: colours that stay readable, a tagline,
and a logo checked by its content and served from our own route."""
