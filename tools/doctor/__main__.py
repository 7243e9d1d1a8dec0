"""Entry point for `python -m tools.doctor`."""

from tools.doctor.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
