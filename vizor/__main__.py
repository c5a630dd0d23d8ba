"""``python -m vizor``: the ``vizor`` command."""
import sys

from vizor.cli.main import main

sys.exit(main())
