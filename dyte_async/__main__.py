"""`python -m dyte_async`: the command line (see `dyte_async._cli`)."""

from __future__ import annotations

from dyte_async._cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    raise SystemExit(main())
