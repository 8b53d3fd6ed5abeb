"""`/docs` (Swagger UI) and `/redoc` (ReDoc) with their assets served by this service.

The assets come from the ``fastapi-offline`` package (installed from PyPI with the service), so the
pages work without internet and no browser fetches anything from a CDN. ReDoc's bundle names one
image on its vendor's CDN (a logo); it is served with that address pointing at a local file.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from sloapi.site.assets import APIDOCS as ASSETS

REDOC_JS = "/assets/redoc/redoc.standalone.js"
REDOC_REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    """ReDoc's standalone bundle with its remote logo replaced by a local image."""
    text = (
        resources.files("fastapi_offline").joinpath("static/redoc.standalone.js").read_text(encoding="utf-8")
    )
    return text.replace(REDOC_REMOTE_LOGO, f"{ASSETS}/favicon.png").encode("utf-8")


@router.get(REDOC_JS)
async def redoc_script() -> Response:
    """ReDoc's script (cached by browsers for a day)."""
    return Response(
        redoc_bundle(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        oauth2_redirect_url="/docs/oauth2-redirect",
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
async def swagger_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc over ``/openapi.json`` (no web fonts: they would come from the internet)."""
    app: FastAPI = request.app
    return get_redoc_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API",
        redoc_js_url=REDOC_JS,
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )
