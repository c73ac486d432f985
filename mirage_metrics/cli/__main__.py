import sys

from mirage_metrics.cli import main

sys.exit(main())
