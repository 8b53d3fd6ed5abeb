"""Storage: alembic migrations and snapshots on SQLite, and on PostgreSQL through PgBouncer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, inspect, select

from sloapi.storage.db import make_engine, make_session_factory, mask_url, normalize_url
from sloapi.storage.migrate import upgrade
from sloapi.storage.models import StatusSnapshot


def roundtrip(url: str, repeats: int = 12) -> None:
    """Migrate, then write and read one snapshot the same way many times."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        assert {"alembic_version", "slo_status_snapshots"} <= set(inspect(engine).get_table_names())
        sessions = make_session_factory(engine)
        slo_id = f"test-{uuid.uuid4().hex}"
        at = datetime(2026, 10, 1, tzinfo=UTC)
        with sessions() as session:
            session.add(
                StatusSnapshot(slo_id=slo_id, window="30d", at=at, computed_at=at, payload={"sli": 0.9995})
            )
            session.commit()
        try:
            for _ in range(repeats):  # > psycopg's prepare threshold: must not prepare
                with sessions() as session:
                    row = session.scalars(select(StatusSnapshot).where(StatusSnapshot.slo_id == slo_id)).one()
                    assert row.payload == {"sli": 0.9995}
                    assert row.at.replace(tzinfo=UTC) == at
        finally:
            with sessions() as session:
                session.execute(delete(StatusSnapshot).where(StatusSnapshot.slo_id == slo_id))
                session.commit()
    finally:
        engine.dispose()


def test_sqlite_file(tmp_path: Path) -> None:
    roundtrip(f"sqlite:///{tmp_path / 'sub' / 'sloapi.db'}")
    assert (tmp_path / "sub" / "sloapi.db").exists()


def test_urls_are_masked_and_normalized() -> None:
    url = "postgresql://app:hunter2@127.0.0.1:6432/app"
    assert "hunter2" not in mask_url(url)
    assert normalize_url(url).startswith("postgresql+psycopg://app:hunter2@")


@pytest.mark.stack
def test_postgresql_through_pgbouncer_transaction_pooling(stack) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql://app:{stack.secret('app')}@{stack.layout.host('pgbouncer')}:{stack.port('pgbouncer')}/app"
    roundtrip(url, repeats=20)
