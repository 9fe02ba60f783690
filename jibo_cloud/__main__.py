"""``python -m jibo_cloud`` is the same as the ``jibo-cloud`` command."""

import sys

from jibo_cloud.cli import main

sys.exit(main())
