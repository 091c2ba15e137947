"""The public surface: `dyte_async.__all__` is sorted and complete, every `__all__` is true."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import dyte_async
import dyte_async.errors
import dyte_async.models


def submodules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(dyte_async.__path__, prefix="dyte_async.")
        # `__main__` modules run a program when imported.
        if not info.name.endswith("__main__")
    ]
    return sorted(names)


def test_all_is_sorted() -> None:
    assert dyte_async.__all__ == sorted(dyte_async.__all__)


def test_all_has_no_duplicates() -> None:
    assert len(dyte_async.__all__) == len(set(dyte_async.__all__))


def test_every_name_in_all_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from dyte_async import *", namespace)
    for name in dyte_async.__all__:
        assert getattr(dyte_async, name) is not None
        assert name in namespace


def test_every_public_error_class_is_exported() -> None:
    errors = {
        name
        for name, value in vars(dyte_async.errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == dyte_async.errors.__name__
        and not name.startswith("_")
    }
    assert errors  # the module was read
    assert errors <= set(dyte_async.__all__), sorted(errors - set(dyte_async.__all__))
    for name in errors:
        assert getattr(dyte_async, name) is getattr(dyte_async.errors, name)


def test_every_error_is_a_dyte_error() -> None:
    for name in dyte_async.errors.__all__:
        value = getattr(dyte_async.errors, name)
        if inspect.isclass(value):
            assert issubclass(value, dyte_async.DyteError), name


def test_every_public_model_is_exported() -> None:
    for name in dyte_async.models.__all__:
        assert name in dyte_async.__all__, name
        assert getattr(dyte_async, name) is getattr(dyte_async.models, name)


def test_the_version_is_exported() -> None:
    assert isinstance(dyte_async.__version__, str)
    assert dyte_async.__version__


def test_every_submodule_all_names_exist() -> None:
    problems: list[str] = []
    checked = 0
    for module_name in submodules():
        module: ModuleType = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        if names is None:
            continue
        checked += 1
        if len(names) != len(set(names)):
            problems.append(f"{module_name}.__all__ has duplicates")
        problems.extend(
            f"{module_name}.__all__ names {name!r}, which it does not define"
            for name in names
            if not hasattr(module, name)
        )
    assert checked >= 10  # the walk found the package's modules
    assert problems == []
