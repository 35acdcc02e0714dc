"""``python -m tchat_client``: the same as the ``tchat`` command."""

import sys

from tchat_client.cli import main

sys.exit(main())
