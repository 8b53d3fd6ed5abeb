"""Patroni exporter: node, cluster, failover and replication lag metrics from the REST API."""
