"""The Dyte v2 OpenAPI file shipped with the package, and the schemas the fake checks against.

`spec/dyte-v2.yaml` is the official file as published (see `spec/README.md`); `dyte-v2.json`
is the same document as JSON, so that reading it needs no YAML library. `patched_spec()` is
the document with the fake's documented answers to the spec's contradictions applied
(`_deviations.DEVIATIONS`): the one the fake validates requests with and the conformance
test fuzzes with.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
from typing import Any

__all__ = [
    "SPEC_JSON",
    "SPEC_YAML",
    "operation",
    "patched_spec",
    "raw_spec",
    "request_schema",
    "resolve",
    "response_schema",
]

SPEC_JSON = "dyte-v2.json"
SPEC_YAML = "dyte-v2.yaml"


def spec_text(name: str) -> str:
    """Return the text of one of the shipped spec files (`SPEC_JSON` or `SPEC_YAML`)."""
    return (importlib.resources.files("dyte_async.testing") / "spec" / name).read_text("utf-8")


@functools.cache
def raw_spec() -> dict[str, Any]:
    """Return the official document, unchanged (do not mutate it)."""
    loaded: dict[str, Any] = json.loads(spec_text(SPEC_JSON))
    return loaded


@functools.cache
def patched_spec() -> dict[str, Any]:
    """Return the document with `DEVIATIONS` applied (do not mutate it)."""
    from dyte_async.testing._deviations import apply_deviations

    spec = copy.deepcopy(raw_spec())
    apply_deviations(spec)
    return spec


def pointer(document: dict[str, Any], where: str) -> Any:
    """Return the node at JSON pointer `where` (`/paths/~1meetings/post/...`).

    Raises:
        KeyError: no such node.
    """
    node: Any = document
    for raw in where.lstrip("/").split("/") if where.strip("/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"{where}: no {part!r}")
    return node


def resolve(document: dict[str, Any], schema: Any) -> Any:
    """Follow `$ref` links at the top of `schema` (local references only)."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema:
        seen += 1
        if seen > 32:
            raise ValueError(f"reference loop at {schema['$ref']}")
        schema = pointer(document, schema["$ref"].removeprefix("#"))
    return schema


def operation(route: str, document: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Return the spec's operation of `"METHOD /template"`, or None when it has none."""
    spec = patched_spec() if document is None else document
    method, _, template = route.partition(" ")
    item = spec.get("paths", {}).get(template)
    if not isinstance(item, dict):
        return None
    found = item.get(method.lower())
    return found if isinstance(found, dict) else None


def request_schema(route: str) -> dict[str, Any] | None:
    """Return the JSON request-body schema of `route` in the patched spec, or None."""
    spec = patched_spec()
    found = operation(route, spec)
    if found is None or "requestBody" not in found:
        return None
    body = resolve(spec, found["requestBody"])
    schema = body.get("content", {}).get("application/json", {}).get("schema")
    return schema if isinstance(schema, dict) else None


def response_schema(route: str, status: int) -> dict[str, Any] | None:
    """Return the JSON schema of `route`'s `status` answer in the patched spec, or None."""
    spec = patched_spec()
    found = operation(route, spec)
    if found is None:
        return None
    answer = found.get("responses", {}).get(str(status))
    if answer is None:
        return None
    answer = resolve(spec, answer)
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    return schema if isinstance(schema, dict) else None
