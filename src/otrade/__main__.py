"""``python -m otrade`` runs the command line."""

import sys

from otrade.cli import main

sys.exit(main())
