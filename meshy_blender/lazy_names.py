"""A package's names and submodules loaded on first use (PEP 562 module ``__getattr__``).

So that importing one module of a package (``api.tasks`` for an enum, ``library.entry`` for
labels) does not import every module the package's ``__init__`` names, and so that the
sidebar's modules can name the helpers their operators and panels call (``from . import
calls``) without loading them when the add-on is enabled: enabling pays only for what it
uses. Plain Python (no bpy).
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable, Collection, Mapping
from typing import Any


class _OnFirstUse(types.ModuleType):
    """Stands in for a submodule until one of its names is read: then imports it and reads from it.

    ``from package import submodule`` takes it when the package offers it (see :func:`first_use`);
    once the real module is imported, the package's attribute is the module itself. Every read
    and every change goes to the real module (a benchmark's wrapper set through a stand-in is
    the one every caller finds), so the stand-in holds nothing of its own.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(importlib.import_module(self.__name__), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(importlib.import_module(self.__name__), name)


def first_use(
    package: str,
    namespace: dict[str, Any],
    on_first_use: Mapping[str, str] | None = None,
    submodules: Collection[str] = (),
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``.

    Each name of ``on_first_use`` (name → module) is imported from its module when first asked
    for, then kept in ``namespace`` for the next look-up. Each of ``submodules`` is offered as a
    stand-in that imports the submodule when one of its names is first read.
    """

    def getattr_(name: str) -> Any:
        if name in submodules:
            return _OnFirstUse(f"{package}.{name}")
        module = (on_first_use or {}).get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return getattr_
