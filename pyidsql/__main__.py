import sys

from pyidsql.cli import main

sys.exit(main())
