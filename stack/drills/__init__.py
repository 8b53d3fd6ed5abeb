"""Failover drills: break the stack on purpose while load flows, measure detection, failover and loss.

The pieces are separate so they can point at a real deployment later: `load` drives traffic through
the app path and checks committed rows, `watch` observes exporters, Prometheus, Alertmanager and
Patroni, `scenarios` injects and repairs faults, `run` ties them together into a drill report.
"""
