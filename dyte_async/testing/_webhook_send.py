"""Sending one webhook delivery: POST or callback, with the flavour's retry rules."""

from __future__ import annotations

import inspect

import anyio
import httpx

from dyte_async.testing._webhook_targets import WebhookDelivery, WebhookTarget

__all__ = ["Clients", "send_all"]

_MAX_RETRY_DELAY = 1.0


class Clients:
    """httpx clients made on first use (plain http needs no TLS context) and closed together."""

    def __init__(self) -> None:
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def get(self, url: str) -> httpx.AsyncClient:
        secure = url.lower().startswith("https:")
        client = self._clients.get(secure)
        if client is None:
            client = httpx.AsyncClient(
                trust_env=False,  # no proxies from the environment: loopback stays loopback
                verify=secure,
                follow_redirects=False,
                headers={"user-agent": "FakeDyte-Webhooks"},
            )
            self._clients[secure] = client
        return client

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        with anyio.CancelScope(shield=True):
            for client in clients:
                await client.aclose()


async def send_all(
    target: WebhookTarget, deliveries: list[WebhookDelivery], clients: Clients
) -> None:
    """Send `deliveries` to `target` one at a time, in order, each with its retries."""
    for delivery in deliveries:
        await _send(target, delivery, clients)


async def _send(target: WebhookTarget, delivery: WebhookDelivery, clients: Clients) -> None:
    for attempt in range(target.max_retries + 1):
        if attempt:
            await anyio.sleep(min(target.retry_delay * 2 ** (attempt - 1), _MAX_RETRY_DELAY))
        delivery.attempts += 1
        if target.url is not None:
            retry = await _post(target, target.url, delivery, clients)
        else:
            retry = await _call(target, delivery)
        if delivery.ok or not retry:
            break
    delivery.done = True


async def _post(
    target: WebhookTarget, url: str, delivery: WebhookDelivery, clients: Clients
) -> bool:
    """One POST; return whether a failure may be retried."""
    try:
        response = await clients.get(url).post(
            url, content=delivery.body, headers=delivery.headers, timeout=target.timeout
        )
    except httpx.TimeoutException:
        delivery.http_status = None
        delivery.error = f"no answer within {target.timeout:g}s"
        return True
    except httpx.HTTPError as exc:
        delivery.http_status = None
        delivery.error = f"{type(exc).__name__}: {exc}"
        return True
    status = response.status_code
    delivery.http_status = status
    if 200 <= status < 300:
        delivery.ok = True
        delivery.error = None
        return False
    delivery.error = f"answered HTTP {status}"
    return target.flavor == "dyte" or status >= 500


async def _call(target: WebhookTarget, delivery: WebhookDelivery) -> bool:
    """One callback call; return whether a failure may be retried (always)."""
    callback = target.callback
    assert callback is not None
    with anyio.move_on_after(target.timeout) as scope:
        try:
            result = callback(delivery.body, dict(delivery.headers))
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            delivery.error = f"the callback raised {type(exc).__name__}: {exc}"
            return True
    if scope.cancelled_caught:
        delivery.error = f"the callback took more than {target.timeout:g}s"
        return True
    delivery.ok = True
    delivery.error = None
    return False
