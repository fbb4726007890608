"""Server-rendered pages (portal, workspace, admin, platform) and the JSON API."""
