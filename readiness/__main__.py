"""``python -m readiness``: the same command line as ``readiness``."""

import sys

from .apps.cli import main

sys.exit(main())
