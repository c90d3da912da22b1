"""A package's names loaded from their modules on first use (PEP 562 module ``__getattr__``).

So that importing one module of a package (``api.tasks`` for an enum, ``library.entry`` for
labels) does not import every module the package's ``__init__`` names: enabling the add-on
pays only for what it uses. Plain Python (no bpy).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def first_use(package: str, namespace: dict[str, Any], on_first_use: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name of ``on_first_use`` (name → module) is
    imported from its module when first asked for, then kept in ``namespace`` for the next look-up."""

    def getattr_(name: str) -> Any:
        module = on_first_use.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return getattr_
