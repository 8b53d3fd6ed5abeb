"""The SLO site: HTML pages for people over the same figures the JSON API serves.

`/` every SLO by budget left, `/slos/{id}` one SLO with charts, `/reports` the monthly reports,
`/runbooks` the alert runbooks, `/docs` and `/redoc` the API documentation with local assets.
"""
