"""`python -m connectors.catalog --write | --check`: the README table of built-in connectors."""

import sys

from connectors.catalog.table import main

sys.exit(main())
