"""keepalived exporter: VRRP state, priorities, VIPs and track scripts from keepalived's own dumps."""
