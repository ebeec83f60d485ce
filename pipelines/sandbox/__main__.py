import sys

from pipelines.sandbox.cli import main

sys.exit(main())
