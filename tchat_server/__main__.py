import sys

from tchat_server.cli import main

sys.exit(main())
