"""python -m icdapi: the command line (the same as the icdapi console script)."""

import sys

from .cli import main

sys.exit(main())
