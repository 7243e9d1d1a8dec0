"""Entry point for `python -m tools.support`."""

from tools.support.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
