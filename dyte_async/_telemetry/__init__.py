"""OpenTelemetry spans and metrics of the request path (the `[otel]` extra).

`make_telemetry` (`_setup.py`) gives the client its `Telemetry` (`_otel.py`, the only module
that imports opentelemetry), `_routes.py` names the operations and cleans URLs, and
`_marks.POLLING` tells a poll's reads from the caller's own calls.
"""

from __future__ import annotations

from dyte_async._telemetry._marks import POLLING
from dyte_async._telemetry._setup import make_telemetry

__all__ = ["POLLING", "make_telemetry"]
