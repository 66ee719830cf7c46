"""``python -m jeugdkit``: the same as the ``jeugdkit`` command."""

import sys

from jeugdkit.cli import main

sys.exit(main())
