import sys

from activespec.cli import main

sys.exit(main())
