"""`python -m dyte_async`: the command line (see `dyte_async.cli`)."""

from __future__ import annotations

from dyte_async.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    raise SystemExit(main())
