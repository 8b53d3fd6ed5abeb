"""`python -m exporters.patroni`: the same as the `patroni-exporter` script."""

import sys

from exporters.patroni.cli import main

sys.exit(main())
