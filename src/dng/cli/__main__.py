import sys

from dng.cli import main

sys.exit(main())
