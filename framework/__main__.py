"""``python -m framework`` is the ``plait`` command."""

from framework.cli.main import main

raise SystemExit(main())
