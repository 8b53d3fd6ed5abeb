"""The PgBouncer exporter: PgBouncer's admin console SHOW views as Prometheus metrics.

`mapping` declares the column-to-metric tables, `parse` turns console answers into families
(pure), `console` is the thin libpq I/O, `scrape` runs the views of one target and `cli`
plugs them into the shared framework (`exporters.core`).
"""
