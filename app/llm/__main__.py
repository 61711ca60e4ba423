"""`python -m app.llm`: the background server process that `ledgerlens` starts."""

import sys

from app.llm.server import main

sys.exit(main())
