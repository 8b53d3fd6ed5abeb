"""`python -m exporters.pgbouncer`: the same as the `pgbouncer-exporter` console script."""

from exporters.pgbouncer.cli import main

raise SystemExit(main())
