"""Every failure ends as one of dyte_async's errors, with what a caller needs, and no secret."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from dyte_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DyteError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    UnprocessableEntityError,
)
from dyte_async.errors import status_error_class
from tests import spec_examples as ex
from tests.unit.harness import mocked

pytestmark = pytest.mark.anyio

MEETING_ID = "bbb03399-24e3-4b0c-90ec-172e97e636be"
ACTIVE = f"/meetings/{MEETING_ID}/active-livestream"
STREAM_KEY = ex.START_LIVESTREAM_201["data"]["stream_key"]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (*ex.SECRETS, STREAM_KEY):
            assert secret not in text, f"secret leaked into {text!r}"


# --- status codes -------------------------------------------------------------------------

STATUS_CASES: list[tuple[int, Any, type[APIStatusError], Any, str]] = [
    (400, ex.ERROR_400_NAME_REQUIRED, BadRequestError, 400, 'BAD_REQUEST: "name" is required'),
    (400, ex.ERROR_400_INVALID_GUID, BadRequestError, 400, 'BAD_REQUEST "id" must be a valid GUID'),
    (401, ex.ERROR_401_UNAUTHORIZED, AuthenticationError, None, "Unauthorized"),
    (403, ex.generic_error(403, "Forbidden"), PermissionDeniedError, 403, "Forbidden"),
    (404, ex.ERROR_404_NO_ACTIVE_SESSION, NotFoundError, 404, "No active session found"),
    (409, ex.generic_error(409, "Livestream running"), ConflictError, 409, "Livestream running"),
    (422, ex.generic_error(422, "bad"), UnprocessableEntityError, 422, "bad"),
    (429, ex.generic_error(429, "Too Many"), RateLimitError, 429, "Too Many"),
    (500, ex.generic_error(500, "Internal"), InternalServerError, 500, "Internal"),
    (503, ex.generic_error(503, "Unavailable"), InternalServerError, 503, "Unavailable"),
]


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "message"),
    STATUS_CASES,
    ids=[f"{c[0]}-{c[2].__name__}" for c in STATUS_CASES],
)
async def test_an_error_status_maps_to_its_class_with_every_detail(
    status: int, body: Any, cls: type[APIStatusError], code: Any, message: str
) -> None:
    headers = {"x-request-id": "req-7c1d", "retry-after": "4"}
    async with mocked(max_retries=0) as m:
        m.router.get(ACTIVE).respond(status, json=body, headers=headers)
        with pytest.raises(APIStatusError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)

    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, DyteError)
    assert exc.status_code == status
    assert exc.code == code
    assert exc.message.startswith(message)
    assert exc.request_id == "req-7c1d"
    assert exc.body == body
    assert str(status) in str(exc)
    assert m.router.calls.call_count == 1
    if cls is RateLimitError:
        assert isinstance(exc, RateLimitError)
        assert exc.retry_after == 4.0


def test_status_error_class_covers_the_documented_tree() -> None:
    assert status_error_class(400) is BadRequestError
    assert status_error_class(404) is NotFoundError
    assert status_error_class(502) is InternalServerError
    assert status_error_class(599) is InternalServerError
    assert status_error_class(418) is APIStatusError


async def test_an_unlisted_4xx_is_a_plain_api_status_error() -> None:
    async with mocked(max_retries=0) as m:
        m.router.get(ACTIVE).respond(418, json=ex.generic_error(418, "teapot"))
        with pytest.raises(APIStatusError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert type(info.value) is APIStatusError
    assert info.value.status_code == 418


async def test_the_request_id_header_is_read_whatever_its_case() -> None:
    async with mocked(max_retries=0) as m:
        m.router.get(ACTIVE).respond(
            404, json=ex.ERROR_404_NO_ACTIVE_SESSION, headers={"X-Request-ID": "Req-ABC"}
        )
        with pytest.raises(NotFoundError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert info.value.request_id == "Req-ABC"


async def test_an_error_without_request_id_header_has_none() -> None:
    async with mocked(max_retries=0) as m:
        m.router.get(ACTIVE).respond(404, json=ex.ERROR_404_NO_ACTIVE_SESSION)
        with pytest.raises(NotFoundError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert info.value.request_id is None


async def test_an_html_502_is_an_internal_server_error_with_the_text_body() -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    async with mocked(max_retries=0) as m:
        m.router.get(ACTIVE).respond(502, text=html, headers={"content-type": "text/html"})
        with pytest.raises(InternalServerError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    exc = info.value
    assert exc.status_code == 502
    assert exc.code is None
    assert exc.body == html
    assert exc.message  # a summary of the status, never empty


async def test_a_200_with_success_false_is_classed_by_its_error_code() -> None:
    async with mocked() as m:
        m.router.get(ACTIVE).respond(200, json=ex.ERROR_404_NO_ACTIVE_SESSION)
        with pytest.raises(NotFoundError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    exc = info.value
    assert exc.status_code == 200
    assert exc.code == 404
    assert exc.message.startswith("No active session found")
    assert m.router.calls.call_count == 1  # not retried


async def test_a_200_with_success_false_and_no_error_code_is_an_api_status_error() -> None:
    async with mocked() as m:
        m.router.get(ACTIVE).respond(200, json={"success": False})
        with pytest.raises(APIStatusError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert type(info.value) is APIStatusError
    assert info.value.status_code == 200


# --- retries of status errors -------------------------------------------------------------


async def test_a_503_is_retried_with_backoff_then_succeeds() -> None:
    async with mocked() as m:
        route = m.router.get(ACTIVE)
        route.side_effect = [
            httpx.Response(503, json=ex.generic_error(503, "Unavailable")),
            httpx.Response(200, json=ex.ACTIVE_LIVESTREAM_200),
        ]
        ls = await m.dyte.livestreams.get_active(MEETING_ID)
    assert ls.is_live
    assert route.call_count == 2
    assert len(m.clock.slept) == 1
    assert 0 < m.clock.slept[0] <= 0.5


async def test_a_persistent_500_raises_after_the_retries() -> None:
    async with mocked(max_retries=2) as m:
        route = m.router.get(ACTIVE).respond(500, json=ex.generic_error(500, "Internal"))
        with pytest.raises(InternalServerError):
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert route.call_count == 3
    assert len(m.clock.slept) == 2


async def test_a_429_waits_for_retry_after_then_succeeds() -> None:
    async with mocked() as m:
        route = m.router.get(ACTIVE)
        route.side_effect = [
            httpx.Response(429, headers={"retry-after": "4"}),
            httpx.Response(200, json=ex.ACTIVE_LIVESTREAM_200),
        ]
        ls = await m.dyte.livestreams.get_active(MEETING_ID)
    assert ls.is_live
    assert route.call_count == 2
    assert m.clock.slept == [4.0]


async def test_a_429_with_retries_disabled_raises_at_once_with_retry_after() -> None:
    async with mocked(max_retries=0) as m:
        route = m.router.get(ACTIVE).respond(
            429, headers={"retry-after": "4", "x-envoy-ratelimited": "true", "server": "envoy"}
        )
        with pytest.raises(RateLimitError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert info.value.retry_after == 4.0
    assert info.value.status_code == 429
    assert route.call_count == 1
    assert m.clock.slept == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_a_client_error_is_never_retried(status: int) -> None:
    async with mocked() as m:
        route = m.router.get(ACTIVE).respond(status, json=ex.generic_error(status, "no"))
        with pytest.raises(APIStatusError):
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert route.call_count == 1
    assert m.clock.slept == []


# --- bodies that are not the API's shape ------------------------------------------------

BAD_200_BODIES = {
    "html": b"<html><body>maintenance</body></html>",
    "truncated-json": b'{"success": true, "data": {"id": "61e0',
    "empty": b"",
    "json-array": b'[{"id": "61e03cb4"}]',
    "json-string": b'"ok"',
    "missing-data": b'{"success": true}',
    "invalid-utf8": b"\xff\xfe\x00{",
}


@pytest.mark.parametrize("content", BAD_200_BODIES.values(), ids=BAD_200_BODIES.keys())
async def test_a_200_that_is_not_the_envelope_is_a_response_decode_error(content: bytes) -> None:
    async with mocked() as m:
        m.router.get(ACTIVE).respond(200, content=content)
        with pytest.raises(ResponseDecodeError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    exc = info.value
    assert not isinstance(exc, (KeyError, json.JSONDecodeError, UnicodeDecodeError))
    assert exc.status_code == 200
    assert m.router.calls.call_count == 1


BAD_DATA = {
    "missing-id": ex.with_data(ex.ACTIVE_LIVESTREAM_200, id=...),
    "data-is-a-string": ex.variant(ex.ACTIVE_LIVESTREAM_200, data="LIVE"),
    "data-is-null": ex.variant(ex.ACTIVE_LIVESTREAM_200, data=None),
    "bad-stream-key": ex.with_data(ex.ACTIVE_LIVESTREAM_200, stream_key={"k": "v"}),
    "bad-playback-url": ex.with_data(ex.ACTIVE_LIVESTREAM_200, playback_url=[1]),
    "status-object": ex.with_data(ex.ACTIVE_LIVESTREAM_200, status={"value": "LIVE"}),
}


@pytest.mark.parametrize("body", BAD_DATA.values(), ids=BAD_DATA.keys())
async def test_data_of_the_wrong_shape_is_a_response_decode_error(body: Any) -> None:
    async with mocked() as m:
        m.router.get(ACTIVE).respond(200, json=body)
        with pytest.raises(ResponseDecodeError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)
    assert not isinstance(info.value, (KeyError, TypeError, ValueError))


async def test_a_missing_id_is_named_in_the_decode_error_of_every_model() -> None:
    async with mocked() as m:
        m.router.get(f"/meetings/{MEETING_ID}").respond(
            200, json=ex.with_data(ex.MEETING_200, id=...)
        )
        m.router.get(f"/meetings/{MEETING_ID}/participants/p1").respond(
            200, json=ex.with_data(ex.PARTICIPANT_200, id=...)
        )
        m.router.get("/livestreams/sessions/s1").respond(
            200, json=ex.with_data(ex.LIVESTREAM_SESSION_200, id=...)
        )
        m.router.get("/livestreams").respond(
            200, json=ex.variant(ex.ALL_LIVESTREAMS_200, data=[{"status": "LIVE"}])
        )
        calls = [
            m.dyte.meetings.get(MEETING_ID),
            m.dyte.participants.get(MEETING_ID, "p1"),
            m.dyte.livestreams.get_session("s1"),
            m.dyte.livestreams.list().to_list(),
        ]
        for call in calls:
            with pytest.raises(ResponseDecodeError, match="id"):
                await call


async def test_stop_without_a_message_succeeds_and_refresh_without_a_token_fails() -> None:
    async with mocked() as m:
        m.router.post(f"/meetings/{MEETING_ID}/active-livestream/stop").respond(
            200, json={"success": True, "data": {}}
        )
        m.router.post(f"/meetings/{MEETING_ID}/participants/p1/token").respond(
            200, json={"success": True, "data": {"jwt": "x"}}
        )
        # The spec does not require stop's message (issue 12): success is success.
        assert await m.dyte.livestreams.stop(MEETING_ID) == ""
        with pytest.raises(ResponseDecodeError):
            await m.dyte.participants.refresh_token(MEETING_ID, "p1")


# --- the network ------------------------------------------------------------------------

NETWORK_CASES: list[tuple[Exception, type[APIConnectionError]]] = [
    (httpx.ConnectError("connection refused"), APIConnectionError),
    (httpx.ConnectTimeout("connect timed out"), APITimeoutError),
    (httpx.ReadTimeout("read timed out"), APITimeoutError),
    (httpx.ReadError("connection reset"), APIConnectionError),
    (httpx.RemoteProtocolError("server disconnected"), APIConnectionError),
]


@pytest.mark.parametrize(
    ("error", "cls"), NETWORK_CASES, ids=[type(e).__name__ for e, _ in NETWORK_CASES]
)
async def test_a_network_failure_of_a_read_is_retried_then_wrapped(
    error: Exception, cls: type[APIConnectionError]
) -> None:
    async with mocked(max_retries=2) as m:
        route = m.router.get(ACTIVE).mock(side_effect=error)
        with pytest.raises(APIConnectionError) as info:
            await m.dyte.livestreams.get_active(MEETING_ID)

    exc = info.value
    assert type(exc) is cls
    assert not isinstance(exc, httpx.HTTPError)
    assert isinstance(exc.__cause__, type(error))
    assert route.call_count == 3
    assert len(m.clock.slept) == 2
    if cls is APITimeoutError:
        assert isinstance(exc, TimeoutError)


async def test_a_connect_error_of_a_create_is_retried_because_nothing_was_sent() -> None:
    async with mocked() as m:
        route = m.router.post("/livestreams")
        route.side_effect = [
            httpx.ConnectError("connection refused"),
            httpx.Response(201, json=ex.CREATE_LIVESTREAM_201),
        ]
        ls = await m.dyte.livestreams.create(name="demo")
    assert route.call_count == 2
    assert ls.id == "78dd0b50-4147-4bb8-88d3-2ccc2e98bff0"


async def test_a_read_timeout_of_a_create_is_not_retried() -> None:
    async with mocked() as m:
        route = m.router.post("/livestreams").mock(side_effect=httpx.ReadTimeout("read"))
        with pytest.raises(APITimeoutError):
            await m.dyte.livestreams.create(name="demo")
    assert route.call_count == 1


WRITES = {
    "livestreams.create": ("/livestreams", ex.CREATE_LIVESTREAM_201),
    "meetings.create": ("/meetings", ex.MEETING_200),
    "participants.add": (f"/meetings/{MEETING_ID}/participants", ex.ADD_PARTICIPANT_201),
}


async def _write(dyte: Any, name: str) -> Any:
    if name == "livestreams.create":
        return await dyte.livestreams.create(name="demo")
    if name == "meetings.create":
        return await dyte.meetings.create(title="Town hall")
    return await dyte.participants.add(MEETING_ID, preset_name="h", custom_participant_id="c")


@pytest.mark.parametrize("name", WRITES)
async def test_a_write_is_not_retried_after_a_server_error(name: str) -> None:
    path, _ = WRITES[name]
    async with mocked() as m:
        route = m.router.post(path).respond(500, json=ex.generic_error(500, "Internal"))
        with pytest.raises(InternalServerError):
            await _write(m.dyte, name)
    assert route.call_count == 1


@pytest.mark.parametrize("name", WRITES)
async def test_a_write_is_retried_after_a_429(name: str) -> None:
    path, body = WRITES[name]
    async with mocked() as m:
        route = m.router.post(path)
        route.side_effect = [
            httpx.Response(429, headers={"retry-after": "2"}),
            httpx.Response(201, json=body),
        ]
        await _write(m.dyte, name)
    assert route.call_count == 2
    assert m.clock.slept == [2.0]


# --- secrets --------------------------------------------------------------------------


async def test_no_error_carries_a_secret_in_its_str_or_repr() -> None:
    key_body = ex.with_data(ex.START_LIVESTREAM_201, playback_url=["not-a-url"])
    errors: list[BaseException] = []
    async with mocked(max_retries=0) as m:
        m.router.get(ACTIVE).respond(401, json=ex.ERROR_401_UNAUTHORIZED)
        m.router.post(f"/meetings/{MEETING_ID}/livestreams").respond(201, json=key_body)
        m.router.get("/meetings/m1").respond(200, content=b"<html>" + ex.API_KEY.encode())
        m.router.get("/livestreams/l1").mock(side_effect=httpx.ConnectError("refused"))
        m.router.post(f"/meetings/{MEETING_ID}/participants").respond(
            200, json=ex.with_data(ex.ADD_PARTICIPANT_201, id=...)
        )
        for call in (
            m.dyte.livestreams.get_active(MEETING_ID),
            m.dyte.livestreams.start(MEETING_ID),
            m.dyte.meetings.get("m1"),
            m.dyte.livestreams.get("l1"),
            m.dyte.participants.add(MEETING_ID, preset_name="h", custom_participant_id="c"),
        ):
            with pytest.raises(DyteError) as info:
                await call
            errors.append(info.value)
    assert [type(e) for e in errors] == [
        AuthenticationError,
        ResponseDecodeError,
        ResponseDecodeError,
        APIConnectionError,
        ResponseDecodeError,
    ]
    for error in errors:
        assert_no_secret(str(error), repr(error))


async def test_logs_carry_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with mocked() as m:
        m.router.get(ACTIVE).side_effect = [
            httpx.Response(503),
            httpx.Response(429, headers={"retry-after": "1"}),
            httpx.Response(200, json=ex.ACTIVE_LIVESTREAM_200),
        ]
        m.router.post(f"/meetings/{MEETING_ID}/participants").respond(
            201, json=ex.ADD_PARTICIPANT_201
        )
        await m.dyte.livestreams.get_active(MEETING_ID)
        await m.dyte.participants.add(MEETING_ID, preset_name="h", custom_participant_id="c")
    assert caplog.records  # the retries were logged
    assert_no_secret(caplog.text)
