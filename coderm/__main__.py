import sys

from coderm.cli import main

sys.exit(main())
