"""js_stringify reproduces Node's JSON.stringify(JSON.parse(text)) (Dyte's sample verifier)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyte_async.webhooks import js_stringify


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.0", "1"),
        ("-0.0", "0"),
        ("100", "100"),
        ("0.1", "0.1"),
        ("123.456", "123.456"),
        ("1e-7", "1e-7"),
        ("0.000001", "0.000001"),
        ("0.00001", "0.00001"),
        ("1e20", "100000000000000000000"),
        ("1e21", "1e+21"),
        ("1.5e300", "1.5e+300"),
        ("5e-324", "5e-324"),
        ("12345678901234567890", "12345678901234567000"),
        ("9007199254740993", "9007199254740992"),
        ("1" + "0" * 400, "null"),
        ("NaN", "null"),
        ('"a\\u0001\\n\\"\\\\/é😀"', '"a\\u0001\\n\\"\\\\/é😀"'),
        ('"\\ud800"', '"\\ud800"'),
        (
            '{"b": 1, "1": 2, "01": 3, "0": 4, "4294967295": 5, "4294967294": 6}',
            '{"0":4,"1":2,"4294967294":6,"b":1,"01":3,"4294967295":5}',
        ),
        ('{"a": 1, "b": 2, "a": 3}', '{"a":3,"b":2}'),
        ("[ true , false , null , [ ] , { } ]", "[true,false,null,[],{}]"),
    ],
)
def test_known_spellings(text: str, expected: str) -> None:
    assert js_stringify(json.loads(text)) == expected


def test_values_json_loads_cannot_give_are_refused() -> None:
    with pytest.raises(TypeError):
        js_stringify({"a": (1, 2)})


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-15, abs_tol=0)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_output_is_compact_json_of_the_same_value(value: Any) -> None:
    text = js_stringify(value)
    assert same(value, json.loads(text))
    assert js_stringify(json.loads(text)) == text  # a fixed point, as in JavaScript


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@settings(max_examples=1, deadline=None)
@given(st.lists(JSON, min_size=200, max_size=200))
def test_matches_node_on_random_documents(values: list[Any]) -> None:
    docs = [json.dumps(v, indent=1, ensure_ascii=False) for v in values]
    docs += ['"\\ud800x"', '"\\udc00"', "[1E5,1.50,0.0000001,1e400,-1e-400]", '{"2":1,"1":2}']
    script = (
        "const docs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(docs.map(d => JSON.stringify(JSON.parse(d)))));"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = json.loads(done.stdout)
    assert [js_stringify(json.loads(d)) for d in docs] == expected
