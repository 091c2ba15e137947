"""Fuzz a served FakeDyte with Schemathesis from the spec, and tally what it answers.

Used by `test_fake_conformance.py` (small and bounded, in CI) and by hand for the figures:

    PYTHONPATH=. python -m tests.integration.fake_conformance --examples 50 [--raw]

For every operation the fake implements, cases are drawn from the spec (positive and
negative data) with the path parameters pointing at records that exist (a meeting with a
running session and livestream, a participant, a preset), sent over a real socket, and
each answer is checked: no 5xx, no hang, the answer valid against the response schema
(of the patched spec by default: the official one plus `_deviations.DEVIATIONS`), no
write-only secret in it, and whether invalid data was refused.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
import attrs
import hypothesis
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import negative_data_rejection

from dyte_async.testing import FakeDyte
from dyte_async.testing._deviations import WRITE_ONLY
from dyte_async.testing._routes import ROUTES
from dyte_async.testing._spec import patched_spec, raw_spec

AUTH = "Basic " + base64.b64encode(b"fuzz-org:fuzz-key").decode()
METHODS = ("get", "post", "put", "patch", "delete")
SECRET_KEYS = frozenset(key for keys in WRITE_ONLY.values() for key in keys)


def implemented_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of `spec` with only the operations the fake implements."""
    kept: dict[str, Any] = {}
    for route in ROUTES:
        item = spec["paths"].get(route.template)
        if item is None or route.method.lower() not in item:
            continue
        entry = kept.setdefault(route.template, {k: v for k, v in item.items() if k not in METHODS})
        entry[route.method.lower()] = item[route.method.lower()]
    trimmed = copy.deepcopy({k: v for k, v in spec.items() if k != "paths"})
    trimmed["paths"] = copy.deepcopy(kept)
    return trimmed


@attrs.define
class Tally:
    """What the fuzzer saw."""

    requests: int = 0
    server_errors: int = 0
    hangs: int = 0
    invalid_answers: int = 0
    violations: collections.Counter[str] = attrs.Factory(collections.Counter)
    secrets_echoed: int = 0
    null_answers: int = 0
    negative_sent: int = 0
    negative_accepted: int = 0
    accepted_examples: collections.Counter[str] = attrs.Factory(collections.Counter)
    failures: list[str] = attrs.Factory(list)
    by_status: collections.Counter[int] = attrs.Factory(collections.Counter)

    def summary(self) -> dict[str, Any]:
        """The figures as a JSON-friendly dict."""
        return {
            "requests": self.requests,
            "server_errors": self.server_errors,
            "hangs": self.hangs,
            "answers_violating_the_schema": self.invalid_answers,
            "violations": dict(self.violations.most_common()),
            "answers_with_a_null_the_schema_refuses": self.null_answers,
            "answers_echoing_secrets": self.secrets_echoed,
            "invalid_requests_sent": self.negative_sent,
            "invalid_requests_accepted": self.negative_accepted,
            "statuses": dict(sorted(self.by_status.items())),
        }


def _has_secret(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if SECRET_KEYS & item.keys():
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _failures(exc: BaseException) -> list[Failure]:
    if isinstance(exc, FailureGroup):
        return list(exc.exceptions)
    return [exc] if isinstance(exc, Failure) else []


def _describe(failure: Failure) -> str:
    if isinstance(failure, JsonSchemaError):
        where = "/".join(str(p) for p in failure.instance_path)
        keyword = failure.schema_path[-1] if failure.schema_path else "?"
        shown = json.dumps(failure.instance)[:60]
        return f"{keyword} at /{where}: {shown}"
    return type(failure).__name__


class Fixtures:
    """Records the cases point at, made over HTTP before each operation is fuzzed."""

    def __init__(self, session: requests.Session, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    def _post(self, path: str, body: Any) -> dict[str, Any]:
        answer = self.session.post(f"{self.base_url}{path}", json=body, timeout=10)
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()["data"]
        return data

    def make(self, preset_body: dict[str, Any]) -> dict[str, str]:
        """Create one of everything; return the path parameters naming them."""
        meeting = self._post("/meetings", {"title": "fuzz"})
        livestream = self._post(f"/meetings/{meeting['id']}/livestreams", {"name": "fuzz"})
        participant = self._post(
            f"/meetings/{meeting['id']}/participants",
            {"preset_name": "viewer", "custom_participant_id": "fuzz-1", "name": "Fuzz"},
        )
        details = self.session.get(
            f"{self.base_url}/livestreams/{livestream['id']}", timeout=10
        ).json()["data"]
        active = self.session.get(
            f"{self.base_url}/meetings/{meeting['id']}/active-session", timeout=10
        ).json()["data"]
        body = {**preset_body, "name": f"fuzz-{time.monotonic_ns()}"}
        preset = self._post("/presets", body)
        return {
            "meeting_id": meeting["id"],
            "livestream_id": livestream["id"],
            "livestream-session-id": details["sessions"][0]["id"],
            "session_id": active["id"],
            "participant_id": participant["id"],
            "preset_id": preset["id"],
        }


def _check(case: Any, response: Any, tally: Tally, *, negative: bool, label: str) -> None:
    tally.requests += 1
    tally.by_status[response.status_code] += 1
    if response.status_code >= 500:
        tally.server_errors += 1
        tally.failures.append(f"{label}: {response.status_code} {response.text[:200]}")
        return
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if 200 <= response.status_code < 300 and _has_secret(body):
        tally.secrets_echoed += 1
        tally.failures.append(f"{label}: a write-only secret in the answer")
    if negative:
        tally.negative_sent += 1
        try:
            case.validate_response(response, checks=[negative_data_rejection])
        except (Failure, FailureGroup):
            tally.negative_accepted += 1
            tally.accepted_examples[label] += 1
            sent = {"query": case.query, "path": case.path_parameters, "headers": case.headers}
            shown = json.dumps(sent, default=str)[:300]
            tally.failures.append(f"{label}: accepted invalid {shown}")
        return
    try:
        case.operation.validate_response(response, case=case)
    except (Failure, FailureGroup) as exc:
        tally.invalid_answers += 1
        failures = _failures(exc)
        if any(isinstance(f, JsonSchemaError) and f.instance is None for f in failures):
            tally.null_answers += 1
        found = [_describe(f) for f in failures]
        for text in found:
            tally.violations[f"{label} {text.split(':', 1)[0]}"] += 1
        tally.failures.append(f"{label} {response.status_code}: " + "; ".join(found))


@attrs.frozen
class _Target:
    base_url: str
    session: requests.Session
    timeout: float
    label: str
    negative: bool


def _send(case: Any, target: _Target, tally: Tally) -> None:
    try:
        response = case.call(
            base_url=target.base_url,
            session=target.session,
            headers={"authorization": AUTH},
            timeout=target.timeout,
        )
    except requests.Timeout:
        tally.hangs += 1
        tally.failures.append(f"{target.label}: no answer in {target.timeout} s")
        return
    except requests.ConnectionError as exc:
        tally.hangs += 1
        tally.failures.append(f"{target.label}: connection failed: {exc}")
        return
    _check(case, response, tally, negative=target.negative, label=target.label)


def _run_cases(strategy: Any, target: _Target, tally: Tally, *, examples: int, seed: int) -> None:
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.seed(seed)
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        _send(case, target, tally)

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


def fuzz(
    base_url: str,
    *,
    spec: dict[str, Any],
    examples: int,
    seed: int = 0,
    timeout: float = 5.0,
    deadline: float | None = None,
) -> Tally:
    """Fuzz every implemented operation at `base_url` (`.../v2`).

    Args:
        base_url: the served fake's v2 base URL.
        spec: the document to draw cases from and check answers against.
        examples: cases per operation and per mode (positive, negative).
        seed: the random seed (the run is reproducible).
        timeout: seconds an answer may take (beyond: a hang).
        deadline: stop starting new operations after this `time.monotonic()`.

    Returns:
        The tally.
    """
    from dyte_async.resources._preset_bodies import livestream_viewer_body

    schema = schemathesis.openapi.from_dict(implemented_spec(spec))
    tally = Tally()
    session = requests.Session()
    session.headers["authorization"] = AUTH
    fixtures = Fixtures(session, base_url)
    preset_body = livestream_viewer_body("x")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.label))
    for operation in operations:
        if deadline is not None and time.monotonic() > deadline:
            break
        params = fixtures.make(preset_body)
        path_parameters = {
            p.name: params[p.name] for p in operation.path_parameters if p.name in params
        }
        for mode in list(GenerationMode):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            _run_cases(
                strategy,
                _Target(base_url, session, timeout, operation.label, mode.is_negative),
                tally,
                examples=examples,
                seed=seed,
            )
    return tally


@contextlib.contextmanager
def served_fake(fake: FakeDyte) -> Iterator[str]:
    """Serve `fake` from a background thread (its own event loop); yield the v2 base URL."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(fake.serve()) as base_url,
    ):
        yield base_url


def main() -> None:
    """Run a fuzz by hand and print the tally as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--raw", action="store_true", help="check against the official spec")
    parser.add_argument("--url", help="fuzz this server instead of an in-process FakeDyte")
    parser.add_argument("--show", type=int, default=20, help="failures to print")
    parser.add_argument("--auth", help="USER:PASS for --url (default: any)")
    args = parser.parse_args()
    if args.auth:
        global AUTH
        AUTH = "Basic " + base64.b64encode(args.auth.encode()).decode()
    spec = raw_spec() if args.raw else patched_spec()
    started = time.monotonic()
    if args.url:
        tally = fuzz(args.url, spec=spec, examples=args.examples, seed=args.seed)
    else:
        fake = FakeDyte(rate_limit=None, go_live_after=0.5, offline_after=0.1)
        with served_fake(fake) as base_url:
            tally = fuzz(base_url, spec=spec, examples=args.examples, seed=args.seed)
    print(
        json.dumps({**tally.summary(), "seconds": round(time.monotonic() - started, 1)}, indent=1)
    )
    for line in tally.failures[: args.show]:
        print(line)


if __name__ == "__main__":
    main()
