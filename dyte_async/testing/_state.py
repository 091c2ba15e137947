"""The fake's records and the livestream lifecycle.

Nothing runs in the background: a livestream session stores when it was invoked, the
statuses forced on it (`set_status`) and when it stopped; its status at any moment is
computed from those and the configured delays when someone reads it.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import attrs

from dyte_async._clock import Clock
from dyte_async.testing._webhook_keys import WebhookKeys

__all__ = [
    "ERRORED",
    "IDLE",
    "INVOKED",
    "LIVE",
    "OFFLINE",
    "FakeState",
    "Livestream",
    "LivestreamSession",
    "Meeting",
    "MeetingSession",
    "Participant",
    "Peer",
    "Preset",
    "Timing",
]

LIVE = "LIVE"
IDLE = "IDLE"
ERRORED = "ERRORED"
INVOKED = "INVOKED"
OFFLINE = "OFFLINE"

DEFAULT_ERR_MESSAGE = "Livestream errored (set by FakeDyte)"


@attrs.frozen
class Timing:
    """When a started livestream changes status on its own.

    Attributes:
        offline_after: seconds from start to OFFLINE (None: never on its own).
        go_live_after: seconds from start to LIVE (None: only through `set_status`).
    """

    offline_after: float | None
    go_live_after: float | None


@attrs.define(eq=False)
class LivestreamSession:
    """One run of a livestream, from start to stop."""

    id: str
    livestream_id: str
    meeting_session_id: str | None
    invoked_at: float
    updated_at: float
    overrides: list[tuple[float, str]] = attrs.Factory(list)
    err_message: str | None = None
    stopped_at: float | None = None

    @property
    def running(self) -> bool:
        """True until the session is stopped."""
        return self.stopped_at is None

    def timeline(self, timing: Timing) -> list[tuple[float, str]]:
        """Return every status change as `(clock time, status)`, in time order."""
        points = [(self.invoked_at, INVOKED)]
        cutoff = self.overrides[0][0] if self.overrides else math.inf
        if self.stopped_at is not None:
            cutoff = min(cutoff, self.stopped_at)
        automatic = []
        for delay, status in ((timing.offline_after, OFFLINE), (timing.go_live_after, LIVE)):
            if delay is not None and self.invoked_at + delay < cutoff:
                automatic.append((self.invoked_at + delay, status))
        automatic.sort(key=lambda point: point[0])
        points.extend(automatic)
        points.extend(self.overrides)
        if self.stopped_at is not None:
            points.append((self.stopped_at, IDLE))
        return points

    def status_at(self, timing: Timing, now: float) -> str:
        """Return the status at clock time `now`."""
        status = INVOKED
        for at, value in self.timeline(timing):
            if at > now:
                break
            status = value
        return status

    def live_seconds(self, timing: Timing, now: float) -> float:
        """Return how long the session has been LIVE up to `now` (or up to its stop)."""
        end = now if self.stopped_at is None else min(now, self.stopped_at)
        points = self.timeline(timing)
        total = 0.0
        for index, (at, status) in enumerate(points):
            if status != LIVE or at >= end:
                continue
            next_at = points[index + 1][0] if index + 1 < len(points) else math.inf
            total += min(next_at, end) - at
        return total

    def first_live_at(self, timing: Timing, now: float) -> float | None:
        """Return when the session first went LIVE (None if it has not by `now`)."""
        for at, status in self.timeline(timing):
            if at > now:
                return None
            if status == LIVE:
                return at
        return None

    def last_change_at(self, timing: Timing, now: float) -> float:
        """Return the time of the latest status change at or before `now`."""
        last = self.invoked_at
        for at, _ in self.timeline(timing):
            if at > now:
                break
            last = at
        return max(last, self.updated_at)


@attrs.define(eq=False)
class Livestream:
    """A livestream (of a meeting, or independent when `meeting_id` is None)."""

    id: str
    name: str | None
    meeting_id: str | None
    stream_key: str
    created_at: float
    updated_at: float
    video_config: dict[str, Any] | None = None
    disabled: bool = False
    sessions: list[LivestreamSession] = attrs.Factory(list)

    @property
    def current(self) -> LivestreamSession:
        """The latest session (every livestream has at least one)."""
        return self.sessions[-1]

    @property
    def active(self) -> bool:
        """True while the latest session runs."""
        return bool(self.sessions) and self.current.running


@attrs.define(eq=False)
class Participant:
    """A participant of a meeting; `fields` holds name, picture, custom id and preset name."""

    id: str
    meeting_id: str
    fields: dict[str, Any]
    created_at: float
    updated_at: float
    token: str


@attrs.define(eq=False)
class Peer:
    """A participant present in a running meeting session."""

    participant_id: str
    muted: bool = False
    allow_unmute: bool = True


@attrs.define(eq=False)
class MeetingSession:
    """A run of a meeting (the "active session" while `ended_at` is None)."""

    id: str
    meeting_id: str
    started_at: float
    updated_at: float
    ended_at: float | None = None
    peers: dict[str, Peer] = attrs.Factory(dict)
    max_concurrent: int = 0


@attrs.define(eq=False)
class Meeting:
    """A meeting; `fields` holds every stored body field (title, flags, configs...)."""

    id: str
    fields: dict[str, Any]
    created_at: float
    updated_at: float
    seq: int
    participants: dict[str, Participant] = attrs.Factory(dict)
    livestream_ids: list[str] = attrs.Factory(list)
    sessions: list[MeetingSession] = attrs.Factory(list)

    @property
    def active_session(self) -> MeetingSession | None:
        """The running session, if any."""
        if self.sessions and self.sessions[-1].ended_at is None:
            return self.sessions[-1]
        return None


@attrs.define(eq=False)
class Preset:
    """A preset: the JSON body as sent (unknown keys kept), plus id and timestamps."""

    id: str
    body: dict[str, Any]
    created_at: float
    updated_at: float


class FakeState:
    """Every record of one fake org, ids, time, and the operations that change them.

    Args:
        org_id: the organization id shown in records.
        clock: the clock every timestamp and lifecycle reads.
        timing: livestream status delays.
        seed: seed of the id/key generator (None: random).
        webhook_keys: the webhook key pair (None: one generated on first use).
        auto_join: every participant of a meeting joins each session of it when it starts
            (as if their front ends connected); else only those added during a session.
    """

    def __init__(
        self,
        *,
        org_id: str,
        clock: Clock,
        timing: Timing,
        seed: int | None,
        webhook_keys: WebhookKeys | None = None,
        auto_join: bool = True,
    ) -> None:
        self.org_id = org_id
        #: participants added before a session starts join it when it starts.
        self.auto_join = auto_join
        self.clock = clock
        self.timing = timing
        self._rng = random.Random(seed)
        self._clock_start = clock.now()
        self._wall_start = time.time()
        self._seq = 0
        self.meetings: dict[str, Meeting] = {}
        self.livestreams: dict[str, Livestream] = {}
        self.livestream_sessions: dict[str, LivestreamSession] = {}
        self.meeting_sessions: dict[str, MeetingSession] = {}
        self.presets: dict[str, Preset] = {}
        #: the webhook signing key pair; its public key is served at
        #: `GET /.well-known/webhooks.json`.
        self.webhook_keys = webhook_keys if webhook_keys is not None else WebhookKeys()

    # -- time and ids ---------------------------------------------------------------------

    def use_clock(self, clock: Clock) -> None:
        """Run on `clock` from now on (for a fake with no records yet)."""
        self.clock = clock
        self._clock_start = clock.now()
        self._wall_start = time.time()

    def now(self) -> float:
        """Return the clock's current reading."""
        return self.clock.now()

    def wall(self, at: float) -> float:
        """Return the Unix time of clock reading `at`."""
        return self._wall_start + (at - self._clock_start)

    def wall_ms(self, at: float) -> int:
        """Return the Unix time of clock reading `at` in whole milliseconds (what `iso` shows)."""
        return math.floor(self.wall(at) * 1000 + 1e-6)

    def iso(self, at: float) -> str:
        """Return clock reading `at` as ISO 8601 UTC with milliseconds and `Z`."""
        seconds, millis = divmod(self.wall_ms(at), 1000)
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"

    def new_id(self) -> str:
        """Return a fresh uuid4 string."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def new_hex(self, nbytes: int) -> str:
        """Return `2 * nbytes` random hex digits."""
        return self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def next_seq(self) -> int:
        """Return an increasing number (creation order among equal timestamps)."""
        self._seq += 1
        return self._seq

    # -- meetings -------------------------------------------------------------------------

    def add_meeting(self, fields: dict[str, Any], *, meeting_id: str | None = None) -> Meeting:
        """Store a new meeting with `fields` (already validated and defaulted)."""
        now = self.now()
        meeting = Meeting(
            id=meeting_id or self.new_id(),
            fields=fields,
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
        )
        self.meetings[meeting.id] = meeting
        return meeting

    def start_meeting_session(self, meeting: Meeting) -> MeetingSession:
        """Return the meeting's running session, starting one if there is none."""
        running = meeting.active_session
        if running is not None:
            return running
        now = self.now()
        session = MeetingSession(
            id=self.new_id(), meeting_id=meeting.id, started_at=now, updated_at=now
        )
        meeting.sessions.append(session)
        self.meeting_sessions[session.id] = session
        if self.auto_join:
            for participant in meeting.participants.values():
                self.join(meeting, participant)
        return session

    def end_meeting_session(self, meeting: Meeting) -> None:
        """End the meeting's running session (every peer leaves)."""
        session = meeting.active_session
        if session is None:
            return
        now = self.now()
        session.ended_at = now
        session.updated_at = now
        session.peers.clear()

    def join(self, meeting: Meeting, participant: Participant) -> None:
        """Put `participant` into the meeting's running session (no-op when there is none)."""
        session = meeting.active_session
        if session is None or participant.id in session.peers:
            return
        now = self.now()
        session.peers[participant.id] = Peer(participant_id=participant.id)
        session.max_concurrent = max(session.max_concurrent, len(session.peers))
        session.updated_at = now

    # -- livestreams ----------------------------------------------------------------------

    def start_livestream(
        self,
        meeting: Meeting | None,
        *,
        name: str | None,
        video_config: dict[str, Any] | None = None,
    ) -> Livestream:
        """Create a livestream and its first session, invoked now.

        For a meeting, the livestreamer joins it: the meeting's session starts if needed, and
        the livestream session is linked to it.
        """
        now = self.now()
        livestream = Livestream(
            id=self.new_id(),
            name=name,
            meeting_id=None if meeting is None else meeting.id,
            stream_key="sk_fake_" + self.new_hex(20),
            created_at=now,
            updated_at=now,
            video_config=video_config,
        )
        meeting_session_id = None
        if meeting is not None:
            meeting_session_id = self.start_meeting_session(meeting).id
            meeting.livestream_ids.append(livestream.id)
        session = LivestreamSession(
            id=self.new_id(),
            livestream_id=livestream.id,
            meeting_session_id=meeting_session_id,
            invoked_at=now,
            updated_at=now,
        )
        livestream.sessions.append(session)
        self.livestreams[livestream.id] = livestream
        self.livestream_sessions[session.id] = session
        return livestream

    def active_livestream(self, meeting: Meeting) -> Livestream | None:
        """Return the meeting's running livestream, if any."""
        for livestream_id in reversed(meeting.livestream_ids):
            livestream = self.livestreams[livestream_id]
            if livestream.active:
                return livestream
        return None

    def stop_livestream(self, livestream: Livestream) -> None:
        """Stop the livestream's running session (it goes IDLE); no-op if stopped."""
        session = livestream.current
        if not session.running:
            return
        now = self.now()
        session.stopped_at = now
        session.updated_at = now
        livestream.updated_at = now

    def status(self, livestream: Livestream) -> str:
        """Return the livestream's status now."""
        return livestream.current.status_at(self.timing, self.now())

    def set_status(self, livestream: Livestream, status: str, err_message: str | None) -> None:
        """Force the running session into `status` from now on (IDLE stops it).

        Raises:
            ValueError: when the livestream is not running and `status` is not IDLE.
        """
        if status == IDLE:
            self.stop_livestream(livestream)
            return
        session = livestream.current
        if not session.running:
            raise ValueError(
                f"livestream {livestream.id} is stopped; start a new one to change its status"
            )
        now = self.now()
        session.overrides.append((now, status))
        session.updated_at = now
        if status == ERRORED:
            session.err_message = err_message or DEFAULT_ERR_MESSAGE
        elif err_message is not None:
            session.err_message = err_message
