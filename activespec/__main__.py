"""``python -m activespec``: the ``activespec`` command.

A program entry point only: no module imports it, so the domain package still never
imports the application package it starts (``activespec_cli``).
"""

import sys

from activespec_cli import main

sys.exit(main())
