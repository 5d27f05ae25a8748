"""``python -m wallctl``."""

import sys

from wallctl.cli import main

sys.exit(main())
