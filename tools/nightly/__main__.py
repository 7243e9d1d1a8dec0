from tools.nightly.cli import main

raise SystemExit(main())
