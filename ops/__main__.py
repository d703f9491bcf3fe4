"""`python -m ops …` is the same as the `childsafe …` command."""

import sys

from ops.cli import main

sys.exit(main())
