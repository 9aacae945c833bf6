"""The web platform (FastAPI, server-rendered Jinja2 + htmx). Build it with
``longpan.web.app.create_app``; see docs/web.md for pages, roles and the security model."""
