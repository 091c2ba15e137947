"""`import dyte_async` stays cheap: what only some programs use is imported on first use.

Timing is left to the benchmarks (benchmarks/run.py, phase 3); here, in fresh interpreters,
which modules an import loads, and that every lazily exported name still resolves. Every
module named here must exist (a renamed module fails the test rather than silently leaving
it nothing to check), and a lazy name covers its submodules too (``dyte_async._poller``
as a package, ``dyte_async.models._presets``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

import dyte_async
from dyte_async import AsyncDyte

#: Imported on first use only: each costs milliseconds, and many programs never need it.
LAZY = (
    "aiohttp",  # the transport's session, made at the first request on asyncio
    "cattrs",
    "importlib.metadata",  # __version__
    "opentelemetry",  # the `[otel]` extra: loaded by making a client, never by the import
    "dyte_async._convert",
    "dyte_async._fanout",
    "dyte_async._poller",
    "dyte_async._telemetry._otel",  # and through it opentelemetry: made with the client
    "dyte_async.models",
    "dyte_async.resources.active_sessions",
    "dyte_async.resources.livestreams",
    "dyte_async.resources.presets",
    "dyte_async.resources.webhooks",
    "dyte_async.webhooks",
)


#: Imported by `import dyte_async` itself.
EAGER = ("dyte_async._client",)
#: Imported by making a client and touching `dyte.livestreams`, or not.
CLIENT_LOADS = ("dyte_async.resources.livestreams", "dyte_async.models")
CLIENT_LEAVES = ("aiohttp", "dyte_async.resources.presets", "dyte_async.resources.webhooks")


@pytest.mark.parametrize("name", sorted({*LAZY, *EAGER, *CLIENT_LOADS, *CLIENT_LEAVES}))
def test_every_module_named_here_exists(name: str) -> None:
    assert importlib.util.find_spec(name) is not None, f"no module {name}: rename it here"


def under(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    """The modules of `loaded` that are one of `names` or inside one of them."""
    return sorted(m for m in loaded if any(m == n or m.startswith(n + ".") for n in names))


def loaded_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_loads_none_of_the_lazy_modules() -> None:
    loaded = loaded_after("import dyte_async")
    assert set(EAGER) <= loaded
    assert "dyte_async._client" in loaded
    assert under(loaded, LAZY) == []


def test_making_a_client_loads_only_what_it_uses() -> None:
    loaded = loaded_after(
        "from dyte_async import AsyncDyte\n"
        "dyte = AsyncDyte('org', 'key')\n"
        "dyte.livestreams"  # the resource everyone uses
    )
    assert set(CLIENT_LOADS) <= loaded
    assert "dyte_async.resources.livestreams" in loaded
    assert "dyte_async.models" in loaded
    # aiohttp: not before the first request, in the event loop
    assert under(loaded, CLIENT_LEAVES) == []
    assert "aiohttp" not in loaded
    assert "dyte_async.resources.presets" not in loaded
    assert "dyte_async.resources.webhooks" not in loaded


def test_every_lazy_name_resolves_to_its_definition() -> None:
    import dyte_async.models
    import dyte_async.webhooks

    for name in dyte_async.__all__:
        value = getattr(dyte_async, name)
        assert value is not None, name
    assert dyte_async.Livestream is dyte_async.models.Livestream
    assert dyte_async.Preset is dyte_async.models.Preset
    assert dyte_async.WebhookKeyError is dyte_async.webhooks.WebhookKeyError
    assert set(dir(dyte_async)) >= set(dyte_async.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        dyte_async.NoSuchThing  # noqa: B018


def test_resources_are_made_once() -> None:
    dyte = AsyncDyte("org", "key")  # no HTTP client is made before the first request
    assert dyte.livestreams is dyte.livestreams
    assert dyte.webhooks is dyte.webhooks
    assert dyte.webhooks.key_url == "https://api.dyte.io/.well-known/webhooks.json"
    names = ("meetings", "participants", "presets", "active_sessions")
    assert all(getattr(dyte, name) is getattr(dyte, name) for name in names)
