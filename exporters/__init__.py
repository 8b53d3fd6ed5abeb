"""Prometheus exporters for HAProxy, PgBouncer and Patroni, sharing one framework (`exporters.core`)."""
