"""Database engine and sessions (SQLAlchemy 2).

SQLite file by default; PostgreSQL by URL (`postgresql://...`, driven by psycopg 3). Server-side
prepared statements are off for PostgreSQL so the service works through PgBouncer in transaction
pooling mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Declarative base of every table of the service (including the reports' tables)."""


def normalize_url(url: str) -> str:
    """Return the URL with the psycopg 3 driver for PostgreSQL (`postgresql://` -> `+psycopg`)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def mask_url(url: str) -> str:
    """The URL with its password replaced by `***`, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable database URL>"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for `url`.

    SQLite: the parent directory is created, foreign keys are enforced and the connection may be
    used from the web server's threads. PostgreSQL: `prepare_threshold=None` (no prepared
    statements, required behind PgBouncer transaction pooling) and pre-ping on checkout.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            connect_args={"prepare_threshold": None, "connect_timeout": 10},
        )
    return create_engine(url, echo=echo)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine` (objects stay readable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
