"""The site as one router of the SLO service: pages, API docs and their assets."""

from __future__ import annotations

from fastapi import APIRouter

from sloapi.site import assets, docs, pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(docs.router)
router.include_router(assets.router)
