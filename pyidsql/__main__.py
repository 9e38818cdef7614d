import sys

from pyidsql.tooling.cli import main

sys.exit(main())
