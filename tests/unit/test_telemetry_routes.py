"""The telemetry's operation table: one row per endpoint, each naming a real SDK method."""

from __future__ import annotations

import functools

import pytest

from dyte_async import AsyncDyte
from dyte_async._telemetry._routes import OPERATIONS, match
from dyte_async.testing._routes import ROUTES


def test_every_endpoint_of_the_spec_has_an_operation() -> None:
    # The fake's table holds the spec's templates; ours names the ids after the SDK's
    # arguments (`livestream_session_id` where the spec says `livestream-session-id`).
    spec = {
        (r.method, r.template.replace("livestream-session-id", "livestream_session_id"))
        for r in ROUTES
    }
    assert set(OPERATIONS) == spec


@pytest.mark.parametrize("operation", sorted(set(OPERATIONS.values())))
def test_every_operation_is_a_method_of_the_client(operation: str) -> None:
    resource, method = operation.split(".")
    assert isinstance(getattr(AsyncDyte, resource), functools.cached_property)
    module = __import__(f"dyte_async.resources.{resource}", fromlist=["_"])
    classes = [c for c in vars(module).values() if isinstance(c, type) and hasattr(c, method)]
    assert classes, f"no method {method} in dyte_async.resources.{resource}"


@pytest.mark.parametrize(
    ("method", "path", "operation", "ids"),
    [
        (
            "GET",
            "/livestreams/sessions/s-1",
            "livestreams.get_session",
            (("livestream_session_id", "s-1"),),
        ),
        ("GET", "/livestreams/ls-1", "livestreams.get", (("livestream_id", "ls-1"),)),
        (
            "POST",
            "/meetings/m-1/participants/p-1/token",
            "participants.refresh_token",
            (("meeting_id", "m-1"), ("participant_id", "p-1")),
        ),
        ("GET", "/meetings", "meetings.list", ()),
    ],
)
def test_a_path_is_matched_to_its_operation_and_ids(
    method: str, path: str, operation: str, ids: tuple[tuple[str, str], ...]
) -> None:
    route = match(method, path)
    assert route is not None
    assert (route.operation, route.ids) == (operation, ids)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("DELETE", "/meetings"), ("GET", "/meetings//participants")],
)
def test_an_unknown_path_has_no_operation(method: str, path: str) -> None:
    assert match(method, path) is None
