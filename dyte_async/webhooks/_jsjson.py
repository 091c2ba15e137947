"""`JSON.stringify(JSON.parse(body))` as Node.js computes it, for Dyte's re-serialised signatures.

Dyte's own sample verifier checks the signature over `JSON.stringify(payload)` of the
*parsed* body rather than over the raw bytes. When the sender signs that re-serialised
text, a raw-body check fails on any byte-level difference (spaces, escapes, number
spelling, key order). `js_stringify` reproduces Node's output so that the opt-in fallback
(`allow_reserialized=True`) can check the same bytes:

- no whitespace; strings escaped like JSON.stringify (only `"`, `\\`, control
  characters, and lone surrogates; non-ASCII text is kept as is);
- numbers as JavaScript prints doubles (`1.0` -> `1`, `1e-7`, `1e+21`, `0.00001`),
  integers beyond 2**53 rounded to the nearest double, NaN/Infinity as `null`;
- object keys in JavaScript's own order: integer-like keys ("0", "17") first in
  ascending order, then the others in the order of the text; a repeated key keeps its
  first position and its last value (as `JSON.parse` does, and as Python's dict does).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

__all__ = ["js_stringify"]

_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_SAFE = 2**53
_MAX_INDEX = 2**32 - 2


def js_stringify(value: Any) -> str:
    """The text `JSON.stringify(value)` gives in JavaScript for a value from `json.loads`.

    Args:
        value: dicts, lists, str, int, float, bool and None (what `json.loads` returns).

    Returns:
        The compact JSON text.

    Raises:
        TypeError: a value `json.loads` cannot produce.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return _integer(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, list):
        return "[" + ",".join(js_stringify(item) for item in value) + "]"
    if isinstance(value, dict):
        parts = [f"{_string(key)}:{js_stringify(value[key])}" for key in _js_key_order(value)]
        return "{" + ",".join(parts) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def _js_key_order(obj: dict[str, Any]) -> list[str]:
    indices = sorted(
        (k for k in obj if _ARRAY_INDEX.fullmatch(k) and int(k) <= _MAX_INDEX), key=int
    )
    index_set = set(indices)
    return indices + [k for k in obj if k not in index_set]


def _integer(value: int) -> str:
    if -_MAX_SAFE <= value <= _MAX_SAFE:
        return str(value)
    try:
        return _number(float(value))
    except OverflowError:  # beyond a double: JSON.parse gives Infinity, stringify null
        return "null"


def _number(value: float) -> str:
    """JavaScript's Number::toString for a double (ECMA-262, 6.1.6.1.20)."""
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as JavaScript does.
    _, digit_tuple, raw_exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent = int(raw_exponent) + len(digit_tuple) - len(digits)  # finite: an int
    k = len(digits)
    n = exponent + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text
