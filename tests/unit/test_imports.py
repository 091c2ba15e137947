"""The package's import graph points one way (read from the source with `ast`, no import).

Every `import` counts, wherever it stands: at the top, inside a function (the lazy ones)
or under `if TYPE_CHECKING:`. Packages and modules are matched by prefix, so the rules
hold for `models.py` as for a `models/` package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dyte_async

PACKAGE = Path(dyte_async.__file__).parent


def module_name(path: Path) -> str:
    parts = ["dyte_async", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The `dyte_async` modules `path` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from dyte_async import testing` imports the module `dyte_async.testing`.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "dyte_async" or m.startswith("dyte_async.")}


GRAPH = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def within(module: str, *packages: str) -> bool:
    """`module` is one of `packages` or inside one (`dyte_async.models` holds
    `dyte_async.models` and `dyte_async.models.presets`, not `dyte_async.models_presets`)."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def leaf(module: str) -> bool:
    """The models and the errors: plain data, importing nothing else of ours."""
    return module.startswith("dyte_async.models") or module == "dyte_async.errors"


def offenders(rule: str, bad: dict[str, set[str]]) -> list[str]:
    return [f"{rule}: {m} imports {', '.join(sorted(t))}" for m, t in sorted(bad.items()) if t]


def test_the_graph_is_read() -> None:
    assert "dyte_async.cli.commands" in GRAPH
    assert "dyte_async._client" in GRAPH["dyte_async.cli.commands"]
    assert "dyte_async.testing" in GRAPH["dyte_async.cli.demo"]  # a lazy import counts
    assert "dyte_async.cli" in GRAPH["dyte_async.__main__"]


def test_only_the_cli_and_the_fake_itself_import_testing() -> None:
    bad = {
        module: {t for t in targets if within(t, "dyte_async.testing")}
        for module, targets in GRAPH.items()
        if not within(module, "dyte_async.cli", "dyte_async.testing")
    }
    assert offenders("the core imports the fake", bad) == []


def test_only_python_dash_m_imports_the_cli() -> None:
    bad = {
        module: {t for t in targets if within(t, "dyte_async.cli")}
        for module, targets in GRAPH.items()
        if not within(module, "dyte_async.cli", "dyte_async.__main__")
    }
    assert offenders("imports the CLI", bad) == []


def test_models_and_errors_import_nothing_of_ours_but_each_other() -> None:
    bad = {
        module: {t for t in targets if not leaf(t)}
        for module, targets in GRAPH.items()
        if leaf(module)
    }
    assert any(leaf(m) for m in GRAPH)
    assert offenders("a leaf imports", bad) == []


@pytest.mark.parametrize(
    "module", ["dyte_async.cli.output", "dyte_async.cli.arguments", "dyte_async.cli.demo"]
)
def test_the_cli_modules_import_one_way(module: str) -> None:
    # output <- arguments <- demo <- commands: no module imports one listed after it.
    order = ["output", "arguments", "demo", "commands"]
    later = {f"dyte_async.cli.{m}" for m in order[order.index(module.rpartition(".")[2]) + 1 :]}
    assert GRAPH[module] & (later | {"dyte_async.cli"}) == set()
