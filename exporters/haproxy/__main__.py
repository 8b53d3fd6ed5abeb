"""`python -m exporters.haproxy` runs the exporter."""

import sys

from exporters.haproxy.cli import main

sys.exit(main())
