"""`python -m shell …` runs the `bauhof` command (what subprocesses use)."""

from __future__ import annotations

import sys

from shell.main import main

sys.exit(main())
