from visketch_core.cli import main

raise SystemExit(main())
