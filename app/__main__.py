"""``python -m app [FILE] [--open FILE] [--screenshot OUT.png] [--cpu]``."""

from __future__ import annotations

import sys

from app.main import main

sys.exit(main(sys.argv[1:]))
