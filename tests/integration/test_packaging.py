"""What a user downloads: the sdist and wheel (built here with hatchling, no network), their
metadata, and the demo on the plain dependencies alone.

Skipped, with the reason printed by `-ra`, when hatchling is not installed (the `dev` extra
has it).
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The Pythons CI runs the suite on (ARCHITECTURE.md, "Tests").
TESTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
#: Packages of the extras: none may be needed by `dyte-async demo`.
EXTRAS_ONLY = (
    "rich",
    "cryptography",
    "matplotlib",
    "numpy",
    "httpx_aiohttp",
    "orjson",
    "redis",
    "opentelemetry",
    "fastapi",
    "pydantic",
    "starlette",
    "uvicorn",
    "respx",
    "pytest",
    "trio",
    "click",
    "pygments",
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("hatchling", reason="hatchling is not installed: `pip install -e .[dev]`")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(zf.read(name))


def test_the_license_is_in_the_repository_the_wheel_and_the_sdist(dist: dict[str, Path]) -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    with zipfile.ZipFile(dist["wheel"]) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert zf.read(name).decode() == license_text
    with tarfile.open(dist["sdist"]) as tf:
        (member,) = [m for m in tf.getmembers() if m.name.endswith("/LICENSE")]
        extracted = tf.extractfile(member)
        assert extracted is not None
        assert extracted.read().decode() == license_text
    assert wheel_metadata(dist["wheel"])["License-Expression"] == "MIT"


def test_the_sdist_has_the_sources_and_tests_but_no_benchmark_images(
    dist: dict[str, Path],
) -> None:
    with tarfile.open(dist["sdist"]) as tf:
        names = tf.getnames()
    assert not [n for n in names if n.endswith((".png", ".jpg", ".svg"))]
    assert any(n.endswith("/dyte_async/py.typed") for n in names)
    assert any(n.endswith("/tests/conftest.py") for n in names)
    assert any(n.endswith("/benchmarks/results/results.json") for n in names)


def test_the_metadata_has_project_urls_and_a_classifier_per_tested_python(
    dist: dict[str, Path],
) -> None:
    meta = wheel_metadata(dist["wheel"])
    urls = meta.get_all("Project-URL") or []
    assert urls
    assert all(", https://" in url for url in urls)
    classifiers = set(meta.get_all("Classifier") or [])
    for version in TESTED_PYTHONS:
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert meta["Requires-Python"] == ">=3.10"
    # The versions CI tests are the versions the package allows, from the lowest.
    assert meta["Requires-Python"] == f">={TESTED_PYTHONS[0]}"


def test_the_demo_needs_no_extra() -> None:
    """`pip install dyte-async` (no extra) is enough for `dyte-async demo`: run it with
    every extra's package made unimportable."""
    script = textwrap.dedent(
        f"""
        import sys
        BLOCKED = {EXTRAS_ONLY!r}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"blocked: {{name}}")
                return None

        sys.meta_path.insert(0, Block())
        from dyte_async.cli import main
        code = main(["demo", "--go-live-after", "0.2"])
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
        assert not loaded, loaded
        raise SystemExit(code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "LIVE: playback URL https://" in done.stdout
