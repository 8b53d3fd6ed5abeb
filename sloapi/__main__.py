"""`python -m sloapi ...`: the same as the `sloapi` console script."""

import sys

from sloapi.cli import main

sys.exit(main())
