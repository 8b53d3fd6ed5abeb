"""Hooks the site into the SLO service's app: pages, API docs and static assets."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sloapi.site import docs, pages

STATIC = "/assets/site"


def install(app: FastAPI) -> None:
    """Add the pages, `/docs`, `/redoc` and the assets (create the app with ``docs_url=None``)."""
    app.include_router(pages.router)
    app.include_router(docs.router)
    docs.mount_assets(app)
    app.mount(STATIC, StaticFiles(packages=[("sloapi.site", "static")]), name="site-assets")
