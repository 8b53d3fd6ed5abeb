"""HTTP layer of the SLO service (FastAPI routers, dependencies, error handlers)."""
