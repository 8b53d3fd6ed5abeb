"""Persistence: SQLAlchemy models, engine/session factory and alembic migrations."""
