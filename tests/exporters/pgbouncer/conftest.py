"""Fixtures of the PgBouncer exporter tests (defined in pgbouncer_daemons.py)."""

from pgbouncer_daemons import bouncer, postgres, spare_bouncer, workdir

__all__ = ["bouncer", "postgres", "spare_bouncer", "workdir"]
