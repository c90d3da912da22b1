"""The sidebar: panels, operators, scene properties, preferences, and background calls.

The modules that declare Blender properties (a class annotation whose value is a
``bpy.props`` call) do not use ``from __future__ import annotations``: Blender reads a
class's annotations with ``typing.get_type_hints`` when it registers it, which compiles and
evaluates each string annotation again at every start, once for every class that inherits
it (28 strings, ~2 ms of each enable, before they were code). Written as code, they are
compiled once into the byte code. Annotations naming what is imported for type checking
only are quoted there.

The helpers the operators and panels call (:mod:`.calls`, :mod:`.icons`, :mod:`.generation_ui`)
are offered on first use (see :mod:`...lazy_names`): they load with the first operator run or
panel drawn, not at enable.
"""

from ...lazy_names import first_use

__getattr__ = first_use(__package__ or "", globals(), submodules={"calls", "icons", "generation_ui"})
