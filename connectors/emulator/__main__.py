"""``python -m connectors.emulator --state-dir DIR ...``: run the local org until stopped."""

import sys

from connectors.emulator.cli import main

sys.exit(main())
