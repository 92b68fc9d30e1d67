"""``python -m plansentry.cli``: the same as the ``plansentry`` command."""

import sys

from plansentry.cli import main

sys.exit(main())
