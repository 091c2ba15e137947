"""The cheaper decode keeps its meaning: orjson reads what `json.loads` reads (and fails
alike), the depth guard still refuses deep JSON, the converter's shortcuts return what its
hooks return, and remembered timestamps are the same timestamps."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import pytest

from dyte_async import ResponseDecodeError
from dyte_async._convert import _KEPT_AS_IS, _parse_datetime, converter, structure
from dyte_async._response import MAX_JSON_DEPTH, _json_bytes, _parser, decode_answer
from dyte_async.models import Livestream


def no_response() -> Any:
    raise AssertionError("the decoder asked for the response on a plain success")


def test_orjson_is_used_when_installed() -> None:
    orjson = pytest.importorskip("orjson")
    assert _parser()(b'{"a": 1}') == orjson.loads(b'{"a": 1}')
    assert _parser() is not json.loads


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": NaN, "b": Infinity}',  # json.loads accepts these, orjson does not
        '{"a": "é"}'.encode("utf-16"),  # json.loads detects UTF-16
        b'{"a": [1, 2, {"b": null}], "c": "\\u00e9"}',
        b'{"dup": 1, "dup": 2}',
    ],
)
def test_the_fast_parser_reads_what_json_loads_reads(body: bytes) -> None:
    ours, theirs = _parser()(body), json.loads(body)
    if isinstance(theirs.get("a"), float) and math.isnan(theirs["a"]):
        assert math.isnan(ours["a"])
        assert ours["b"] == theirs["b"]
    else:
        assert ours == theirs


def test_integers_past_64_bits_are_read_as_numbers_of_the_same_size() -> None:
    # The one documented difference: orjson reads them as floats (the API sends none).
    value = _parser()(b'{"big": 123456789012345678901234567890}')["big"]
    assert value == pytest.approx(123456789012345678901234567890)
    assert _parser()(b"18446744073709551615") == 2**64 - 1  # 64 bits: exact


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe\xfa", b'{"a": 1} trailing'])
def test_the_fast_parser_fails_as_json_loads_fails(body: bytes) -> None:
    errors = []
    for loads in (_parser(), json.loads):
        try:
            loads(body)
        except ValueError as exc:  # JSONDecodeError or UnicodeDecodeError
            errors.append(exc)
    assert len(errors) == 2
    assert type(errors[0]) is type(errors[1])
    assert str(errors[0]) == str(errors[1])


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_the_depth_guard_still_refuses_deep_json() -> None:
    assert _json_bytes(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(ValueError, match="nested deeper"):
        _json_bytes(nested(MAX_JSON_DEPTH + 1))
    deep_object = b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(ValueError, match="nested deeper"):
        _json_bytes(deep_object)
    with pytest.raises(ResponseDecodeError, match="nested deeper"):
        decode_answer(
            200,
            b'{"success": true, "data": ' + nested(500) + b"}",
            method="GET",
            path="/x",
            as_response=lambda: __import__("httpx").Response(200, content=b""),
        )


def test_brackets_inside_strings_do_not_make_a_flat_body_deep() -> None:
    text = "[" * 300 + "{" * 300
    body = json.dumps({"success": True, "data": {"name": text}}).encode()
    envelope = decode_answer(200, body, method="GET", path="/x", as_response=no_response)
    assert envelope.data == {"name": text}


def test_a_plain_success_never_builds_a_response() -> None:
    body = b'{"success": true, "data": {"id": "ls1"}, "paging": {"page_no": 1}}'
    envelope = decode_answer(200, body, method="GET", path="/x", as_response=no_response)
    assert envelope.data == {"id": "ls1"}
    assert envelope.body["paging"] == {"page_no": 1}
    assert envelope.status_code == 200


SAMPLES: dict[type, list[Any]] = {
    str: ["", "x", "é" * 3],
    int: [0, -5, 2**70],
    float: [0.0, 1.5, -2e300],
    bool: [True, False],
    type(None): [None],
}


@pytest.mark.parametrize("tp", list(_KEPT_AS_IS), ids=str)
def test_values_kept_as_they_are_are_what_the_hooks_return(tp: Any) -> None:
    hook = converter.get_structure_hook(tp)
    for kind in _KEPT_AS_IS[tp]:
        for value in SAMPLES[kind]:
            result = hook(value, tp)
            assert result == value
            assert type(result) is type(value)


def test_bools_are_not_kept_as_numbers_nor_numbers_as_strings() -> None:
    assert bool not in _KEPT_AS_IS[float]
    assert bool not in _KEPT_AS_IS[int]
    assert int not in _KEPT_AS_IS[str]
    data = {"id": "ls1", "ingest_seconds": True, "disabled": "true", "name": 5}
    livestream = structure(data, Livestream)
    assert livestream.ingest_seconds is None  # a bool is not a number: tolerant default
    assert livestream.disabled is True  # "true" read by the bool hook
    assert livestream.name == "5"  # a number read by the string hook


def test_strict_fields_still_fail_and_tolerant_ones_still_default() -> None:
    with pytest.raises(ResponseDecodeError, match=r"Livestream\.id"):
        structure({"id": ["not", "a", "string"]}, Livestream)
    livestream = structure({"id": "ls1", "created_at": "yesterday"}, Livestream)
    assert livestream.created_at is None


def test_remembered_timestamps_are_the_same_timestamps() -> None:
    first = _parse_datetime("2023-07-15T11:58:08.404Z")
    again = _parse_datetime("2023-07-15T11:58:08.404Z")
    assert first == again == datetime(2023, 7, 15, 11, 58, 8, 404000, tzinfo=timezone.utc)
    data = {"id": "ls1", "created_at": "2023-07-15T11:58:08.404Z"}
    assert structure(data, Livestream).created_at == first
    for _ in range(2):  # raised every time, never remembered
        with pytest.raises(ValueError, match="not an ISO 8601"):
            _parse_datetime("not a time")
