"""``python -m vizor.cli``: the ``vizor`` command."""
import sys

from vizor.cli.main import main

sys.exit(main())
