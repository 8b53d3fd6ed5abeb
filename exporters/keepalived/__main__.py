"""`python -m exporters.keepalived`."""

import sys

from exporters.keepalived.cli import main

sys.exit(main())
