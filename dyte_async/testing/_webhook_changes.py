"""Finding the livestream status changes the fake's webhooks have not reported yet."""

from __future__ import annotations

import attrs

from dyte_async.testing._state import FakeState, Livestream, LivestreamSession

__all__ = ["Change", "ChangeTracker"]


@attrs.frozen
class Change:
    at: float
    status: str
    livestream: Livestream


class ChangeTracker:
    """Finds the status changes of every livestream session not reported yet.

    Keeps, per session, the points of its timeline (`LivestreamSession.timeline`) already
    seen and the last status reported. A timeline only grows, except that a status forced
    at the very instant of a scheduled change replaces that change: the points after the
    common prefix are then the new ones. A point whose status equals the last reported
    one is no change.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[list[tuple[float, str]], str | None]] = {}
        self._finished: set[str] = set()

    def collect(self, state: FakeState) -> list[Change]:
        now = state.now()
        found: list[Change] = []
        for livestream in state.livestreams.values():
            for session in livestream.sessions:
                if session.id not in self._finished:
                    found.extend(self._session(state, livestream, session, now))
        found.sort(key=lambda change: change.at)
        return found

    def _session(
        self, state: FakeState, livestream: Livestream, session: LivestreamSession, now: float
    ) -> list[Change]:
        points = [p for p in session.timeline(state.timing) if p[0] <= now]
        seen, last = self._seen.get(session.id, ([], None))
        common = 0
        for old, new in zip(seen, points, strict=False):
            if old != new:
                break
            common += 1
        changes = []
        for at, status in points[common:]:
            if status != last:
                changes.append(Change(at, status, livestream))
                last = status
        if session.stopped_at is not None and session.stopped_at <= now:
            self._finished.add(session.id)  # a stopped session changes no more
            self._seen.pop(session.id, None)
        else:
            self._seen[session.id] = (points, last)
        return changes
