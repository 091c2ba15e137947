"""Test helpers for users of dyte_async: a fake Dyte API and a virtual clock.

```python
from dyte_async.testing import FakeClock, FakeDyte

fake = FakeDyte(clock=FakeClock())
async with fake.client() as dyte:
    ...
```

The fake accepts any well-formed credentials unless given its own (`org_id=`, `api_key=`)
or `strict_auth=True`. In pytest, the `dyte_fake` fixture is configured by overriding the
`dyte_fake_options` fixture (e.g. `{"clock": "fake", "go_live_after": 0.5}`) or with
`@pytest.mark.dyte_fake(...)`.

`fake.add_webhook(url)` makes the fake send signed `livestreaming.statusUpdate` webhooks
(see `FakeDyte.add_webhook`; each one is recorded as a `WebhookDelivery`).
"""

from __future__ import annotations

from dyte_async.testing._clock import FakeClock
from dyte_async.testing._fake import FakeDyte
from dyte_async.testing._faults import MalformedKind
from dyte_async.testing._log import RecordedRequest
from dyte_async.testing._webhooks import WebhookDelivery

__all__ = ["FakeClock", "FakeDyte", "MalformedKind", "RecordedRequest", "WebhookDelivery"]
