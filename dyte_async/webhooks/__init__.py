"""Webhooks from Dyte and Cloudflare RealtimeKit: verify, parse, de-duplicate.

```python
from dyte_async import webhooks

webhooks.verify(body, request.headers, public_key_pem)     # raises WebhookSignatureError
event = webhooks.parse_event(body, request.headers)         # LivestreamStatusUpdate, ...
if not recent.is_duplicate(event.delivery_id):              # recent = webhooks.RecentIds()
    dyte.livestreams.notify(event)
```

or, with the key fetched and cached by the client: `await dyte.webhooks.verify_and_parse(
body, request.headers)`.

Signatures: `dyte-signature` (Dyte) or `rtk-signature` (RealtimeKit), base64 RSA-SHA256
(PKCS#1 v1.5) over the **raw** body bytes. Dyte's own Node sample verifies
`JSON.stringify` of the parsed body instead; that is supported behind
`allow_reserialized=True`, off by default (see `_signature`'s notes).

Errors: signature problems are `WebhookSignatureError` (`WebhookKeyError`, also a
`ConfigurationError`, for an unusable key); body problems are `WebhookPayloadError` (a
`ResponseDecodeError` and a `ValueError`). Signature checks need `cryptography`
(`pip install 'dyte-async[webhooks]'`), imported only when first needed: without it, this
module imports fine and checks raise `ConfigurationError` naming the extra.

`sign`, `signed_headers` and `generate_keypair` make signed deliveries for tests and fakes.
"""

from __future__ import annotations

from dyte_async.webhooks._crypto import INSTALL_HINT, generate_keypair, sign
from dyte_async.webhooks._dedupe import RecentIds
from dyte_async.webhooks._errors import WebhookKeyError, WebhookPayloadError
from dyte_async.webhooks._events import (
    EVENT_TYPES,
    LIVESTREAM_STATUS_UPDATE,
    GenericEvent,
    LivestreamStatusUpdate,
    WebhookEvent,
    WebhookMeeting,
    WebhookOrganization,
    parse_event,
)
from dyte_async.webhooks._headers import (
    DELIVERY_ID_HEADERS,
    SIGNATURE_HEADERS,
    WEBHOOK_ID_HEADERS,
    delivery_id,
    webhook_id,
)
from dyte_async.webhooks._jsjson import js_stringify
from dyte_async.webhooks._keys import (
    DYTE_WEBHOOK_KEY_URL,
    REALTIMEKIT_WEBHOOK_KEY_URL,
    public_key_from_body,
    webhook_key_url,
)
from dyte_async.webhooks._signature import Body, verify
from dyte_async.webhooks._signing import signed_headers

__all__ = [
    "DELIVERY_ID_HEADERS",
    "DYTE_WEBHOOK_KEY_URL",
    "EVENT_TYPES",
    "INSTALL_HINT",
    "LIVESTREAM_STATUS_UPDATE",
    "REALTIMEKIT_WEBHOOK_KEY_URL",
    "SIGNATURE_HEADERS",
    "WEBHOOK_ID_HEADERS",
    "Body",
    "GenericEvent",
    "LivestreamStatusUpdate",
    "RecentIds",
    "WebhookEvent",
    "WebhookKeyError",
    "WebhookMeeting",
    "WebhookOrganization",
    "WebhookPayloadError",
    "delivery_id",
    "generate_keypair",
    "js_stringify",
    "parse_event",
    "public_key_from_body",
    "sign",
    "signed_headers",
    "verify",
    "webhook_id",
    "webhook_key_url",
]
