"""`SharedReads`: the polls of a whole fleet cost what one process's polls cost.

Every process of a fleet waiting on livestreams polls the same reads: the organization's
LIVE list, a meeting's active livestream. With ``redis=``, a poll's read goes through here:

1. If another process of the fleet made the same read, newer than the answer this process
   saw last and within the smallest ``poll_interval`` of the waits it serves (`FRESH_FOR`;
   ages on the Redis server's clock), its answer is used: no request. (So a process never
   takes its own last read, or one it has used, for news.)
2. Else this process takes a short lock on the read (``SET NX``, expiring with the read's
   own deadline) and sends it; the answer (200, or 404 for "nothing active") is stored for
   the others, and when a meeting's active livestream differs from the one stored before,
   a wake-up is published (`Wakeups.changed`) so that the waits on it in other processes
   look at it now instead of at their next poll.
3. While another process holds the lock, this one looks at the store again (after 25 ms,
   then backing off to 200 ms) until the answer is there or the lock expired (it lasts
   the holder's deadline, 10 s at most), never past its own deadline.

So whoever polls first serves everyone: no election, no background task, and a process
that dies holding a lock only delays the others until the lock expires. Stream keys (and
every other secret-named field) are removed before an answer is stored: a livestream read
from the store has ``stream_key=None`` (read it with ``get_active`` when needed).

Redis down, slow or failing: reads go straight to the API, one WARNING per outage, Redis
asked again after 2 s. Reads other than GET go straight through, as does everything where
the fleet cannot run (trio without ``async with AsyncDyte(...)``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

import anyio

from dyte_async._fleet._backends import Script
from dyte_async._fleet._link import Link, redis_errors
from dyte_async._fleet._outage import Outage
from dyte_async._fleet._wakeups import Wakeups
from dyte_async._poller._reader import FRESH_FOR
from dyte_async._redact import is_secret_name
from dyte_async._response import Envelope
from dyte_async.errors import ConfigurationError, NotFoundError

if TYPE_CHECKING:
    from dyte_async._clock import Clock
    from dyte_async._pipeline import Pipeline

__all__ = ["SharedReads"]

logger = logging.getLogger("dyte_async")

LOOKUP: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local epoch = redis.call('GET', KEYS[3]) or '0'
local entry = redis.call('HMGET', KEYS[1], 't', 'v', 'e')
if entry[1] and entry[3] == epoch and tonumber(entry[1]) > tonumber(ARGV[4])
    and now - tonumber(entry[1]) <= tonumber(ARGV[1]) then
  return {1, entry[2], epoch, entry[1]}
end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then return {2, '', epoch, '0'} end
return {3, '', epoch, '0'}
"""
"""KEYS = the stored read, its lock, the fleet's epoch; ARGV = the largest age accepted
(us), the lock's time to live (ms), this reader's token, the store time of the answer this
process saw last (us; 0: none). Returns {1, answer, epoch, its store time} (newer than the
one seen, fresh enough, stored since the last webhook), {2, '', epoch, 0} (the lock is
ours: send the read) or {3, '', epoch, 0} (another process is reading it). A webhook
bumps the epoch (`Wakeups.publish`): every answer stored before it is stale."""

STORE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local before = redis.call('HGET', KEYS[1], 'v')
local stamp = string.format('%.0f', now)
redis.call('HSET', KEYS[1], 't', stamp, 'v', ARGV[1], 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if before == ARGV[1] then return {0, stamp} end
return {1, stamp}
"""
"""KEYS = the stored read, its lock; ARGV = the answer, its time to live (ms), the token,
the epoch seen before the read was sent. Stores the answer (stamped with the Redis time and
that epoch), drops our lock, and returns {1 when the answer differs from the one before
(else 0), its store time}."""

UNLOCK: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""

_KEEP_MS: Final = 300_000  # a stored answer lives 5 minutes unless read again
_WAIT_STEP: Final = 0.025  # the first look again, doubled up to _WAIT_STEP_MAX
_WAIT_STEP_MAX: Final = 0.2
_MAX_SEEN: Final = 100_000  # reads whose last answer is remembered
_LOCK_MAX: Final = 10.0  # seconds a read's lock lasts at most (a dead holder's too)


class SharedReads:
    """A `Reader` that shares poll reads across the fleet (see the module docstring).

    Args:
        pipeline: the client's request path (what a read is sent through).
        link: the fleet's Redis and key.
        wakeups: where a changed answer is announced to the other processes.
    """

    def __init__(self, pipeline: Pipeline, link: Link, wakeups: Wakeups) -> None:
        self._pipeline = pipeline
        self._link = link
        self._wakeups = wakeups
        self._scripts: tuple[Script, Script, Script] | None = None
        self._token = uuid.uuid4().hex
        #: Redis failing: reads go straight to the API for a while (shared with the backlog)
        self.outage = Outage(
            pipeline.clock, link.where, "shared polls", "this process polls on its own"
        )
        # The store time of the answer this process saw last, per read: only a newer one
        # is news (never its own last read, nor one it has already used).
        self._seen: dict[str, int] = {}
        #: reads answered from the store, sent by this process, sent while Redis was down.
        self.shared: int = 0
        self.sent: int = 0
        self.direct: int = 0

    @property
    def clock(self) -> Clock:
        """The client's clock."""
        return self._pipeline.clock

    @property
    def timeout(self) -> float:
        """The client's default call timeout."""
        return self._pipeline.timeout

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Envelope:
        """Answer a poll's read from the fleet's store, or send it (and store the answer).

        Raises:
            NotFoundError: the read (sent, or stored by another process) answered 404.
            DyteError: the read failed.
        """
        if method != "GET" or not self._usable():
            return await self._direct(method, path, params, deadline)
        keys = self._keys(path, params)
        try:
            state, stored, epoch = await self._look(keys, deadline)
            if state == 3:
                state, stored, epoch = await self._await_other(keys, deadline, epoch)
        except redis_errors() as error:
            self.outage.failed(error)
            return await self._direct(method, path, params, deadline)
        if state == 1:
            try:
                envelope = _answer(stored, path)
            except (ValueError, TypeError, AttributeError):  # not an answer we stored
                logger.debug("shared polls: unreadable stored answer for %s; reading it", path)
                return await self._direct(method, path, params, deadline)
            self.shared += 1
            return envelope
        return await self._send_and_store(
            keys, path, params, deadline, epoch=epoch, locked=state == 2
        )

    # -- inside --------------------------------------------------------------------------

    def _usable(self) -> bool:
        if self.outage.down:
            return False
        if self._scripts is None:
            try:
                redis = self._link.redis()
            except ConfigurationError:  # trio without `async with AsyncDyte`: read alone
                return False
            self._scripts = (redis.script(LOOKUP), redis.script(STORE), redis.script(UNLOCK))
        return True

    @property
    def _lookup(self) -> Script:
        assert self._scripts is not None
        return self._scripts[0]

    @property
    def _store(self) -> Script:
        assert self._scripts is not None
        return self._scripts[1]

    @property
    def _unlock(self) -> Script:
        assert self._scripts is not None
        return self._scripts[2]

    async def _direct(
        self, method: str, path: str, params: Mapping[str, Any] | None, deadline: float | None
    ) -> Envelope:
        self.direct += 1
        return await self._pipeline.send(method, path, params=params, deadline=deadline)

    def _keys(self, path: str, params: Mapping[str, Any] | None) -> list[str]:
        query = sorted((str(k), str(v)) for k, v in (params or {}).items() if v is not None)
        digest = hashlib.sha256(json.dumps([path, query]).encode()).hexdigest()[:24]
        tag = "{" + self._link.key + "}"
        base = tag + ":read:" + digest
        return [base, base + ":lock", tag + ":epoch"]

    def _redis_budget(self, deadline: float | None) -> float:
        budget = self._link.timeout
        if deadline is not None:
            budget = min(budget, max(0.0, deadline - self.clock.now()))
        return budget

    async def _look(self, keys: list[str], deadline: float | None) -> tuple[int, Any, Any]:
        fresh_us = round(FRESH_FOR.get() * 1_000_000)
        lock_ms = max(1, round(1000 * min(_LOCK_MAX, self._redis_span(deadline))))
        seen = self._seen.get(keys[0], 0)
        with anyio.fail_after(self._redis_budget(deadline)):
            reply = await self._lookup(keys=keys, args=[fresh_us, lock_ms, self._token, seen])
        if not isinstance(reply, list) or len(reply) != 4:
            raise ValueError("unexpected answer from the shared-read script")
        self.outage.recovered()
        if int(reply[0]) == 1:
            self._saw(keys[0], int(reply[3]))
        return int(reply[0]), reply[1], reply[2]

    def _saw(self, key: str, stamp: int) -> None:
        if len(self._seen) >= _MAX_SEEN:
            self._seen.clear()  # forgetting only costs a read
        self._seen[key] = stamp

    def _redis_span(self, deadline: float | None) -> float:
        return self.timeout if deadline is None else max(0.001, deadline - self.clock.now())

    async def _await_other(
        self, keys: list[str], deadline: float | None, epoch: Any
    ) -> tuple[int, Any, Any]:
        """Another process is reading: look again until its answer is stored."""
        step = _WAIT_STEP
        while self._redis_span(deadline) > step:
            await anyio.sleep(step)
            step = min(step * 2, _WAIT_STEP_MAX)
            state, stored, epoch = await self._look(keys, deadline)
            if state != 3:
                return state, stored, epoch  # its answer, or its lock expired: ours now
        return 0, None, epoch  # too close to our deadline: send it ourselves, unlocked

    async def _send_and_store(
        self,
        keys: list[str],
        path: str,
        params: Mapping[str, Any] | None,
        deadline: float | None,
        *,
        epoch: Any,
        locked: bool,
    ) -> Envelope:
        self.sent += 1
        try:
            envelope = await self._pipeline.send("GET", path, params=params, deadline=deadline)
        except NotFoundError as exc:
            entry: dict[str, Any] = {"status": 404, "message": exc.message}
            await self._keep(keys, entry, path, deadline, epoch)
            raise
        except BaseException:
            if locked:
                await self._release(keys[1])
            raise
        entry = {
            "status": envelope.status_code,
            "data": _without_secrets(envelope.data),
            "body": _without_secrets({k: v for k, v in envelope.body.items() if k != "data"}),
        }
        await self._keep(keys, entry, path, deadline, epoch)
        return envelope

    async def _keep(
        self,
        keys: list[str],
        entry: dict[str, Any],
        path: str,
        deadline: float | None,
        epoch: Any,
    ) -> None:
        """Store an answer for the others; announce it when it changed (best effort)."""
        value = json.dumps(entry, separators=(",", ":"), sort_keys=True)
        try:
            with anyio.fail_after(self._redis_budget(deadline)):
                reply = await self._store(keys=keys[:2], args=[value, _KEEP_MS, self._token, epoch])
            changed, stamp = int(reply[0]), int(reply[1])
        except redis_errors() as error:  # ValueError included: an answer not ours
            self.outage.failed(error)
            return
        self._saw(keys[0], stamp)
        if changed:
            meeting_id = _meeting_of(path)
            if meeting_id is not None:
                self._wakeups.changed(meeting_id)

    async def _release(self, lock: str) -> None:
        try:
            with anyio.fail_after(self._link.timeout), anyio.CancelScope(shield=True):
                await self._unlock(keys=[lock], args=[self._token])
        except redis_errors():
            pass  # it expires by itself

    def __repr__(self) -> str:
        return f"SharedReads({self._link.where}, shared={self.shared}, sent={self.sent})"


def _answer(stored: Any, path: str) -> Envelope:
    """The `Envelope` of a stored answer (or its `NotFoundError`)."""
    entry = json.loads(stored)
    if entry.get("status") == 404:
        raise NotFoundError(
            str(entry.get("message") or "not found"), status_code=404, method="GET", url=path
        )
    data, body = entry.get("data"), entry.get("body")
    body = {**body, "data": data} if isinstance(body, dict) else {"data": data}
    return Envelope(data=data, body=body, status_code=int(entry.get("status") or 200))


def _without_secrets(value: Any) -> Any:
    """`value` without the fields named like secrets (`stream_key`, tokens, ...)."""
    if isinstance(value, Mapping):
        return {
            k: _without_secrets(v)
            for k, v in value.items()
            if not (isinstance(k, str) and is_secret_name(k))
        }
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _meeting_of(path: str) -> str | None:
    """The meeting a read of its active livestream is about (None for any other read).

    Only those changes are announced: a list page changes whenever any livestream of the
    organization does, and announcing it would send every process to read the other pages
    again (measured: 4x the list reads of one process at 1,000 meetings). List waits see
    another process's newer pages at their own next poll.
    """
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "meetings" and parts[2] == "active-livestream":
        return unquote(parts[1])
    return None
