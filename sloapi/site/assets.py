"""The site's own files and Swagger UI's, served by name from package data.

Only the files listed here are served (no directory is walked); each is read once per process.
ReDoc's bundle is served by `sloapi.site.docs` (its remote logo replaced).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath

from fastapi import APIRouter, HTTPException, Response

SITE = "/assets/site"
APIDOCS = "/assets/apidocs"
#: URL folder -> (package, folder of its package data, files served)
FOLDERS: dict[str, tuple[str, str, frozenset[str]]] = {
    SITE: ("sloapi.site", "static", frozenset({"site.css", "site.js"})),
    APIDOCS: (
        "fastapi_offline",
        "static",
        frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
    ),
}
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
}
router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=16)
def read_asset(folder: str, name: str) -> bytes:
    """The bytes of one listed file.

    Raises:
        KeyError: not a listed file.
    """
    package, directory, names = FOLDERS[folder]
    if name not in names:
        raise KeyError(name)
    return resources.files(package).joinpath(f"{directory}/{name}").read_bytes()


def _answer(folder: str, name: str) -> Response:
    try:
        body = read_asset(folder, name)
    except KeyError:
        raise HTTPException(404, "no such file") from None
    return Response(
        body,
        media_type=MEDIA_TYPES[PurePosixPath(name).suffix],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get(SITE + "/{name}")
async def site_asset(name: str) -> Response:
    """The pages' stylesheet and script."""
    return _answer(SITE, name)


@router.get(APIDOCS + "/{name}")
async def apidocs_asset(name: str) -> Response:
    """Swagger UI's script, stylesheet and the docs' favicon."""
    return _answer(APIDOCS, name)
