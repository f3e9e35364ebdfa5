"""`python -m bot` is the `siaga112` command."""

from bot.cli import main

raise SystemExit(main())
