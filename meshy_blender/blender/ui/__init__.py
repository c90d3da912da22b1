"""The sidebar: panels, operators, scene properties, preferences, and background calls.

The modules that declare Blender properties (a class annotation whose value is a
``bpy.props`` call) do not use ``from __future__ import annotations``: Blender reads a
class's annotations with ``typing.get_type_hints`` when it registers it, which compiles and
evaluates each string annotation again at every start, once for every class that inherits
it (28 strings, ~2 ms of each enable, before they were code). Written as code, they are
compiled once into the byte code. Annotations naming what is imported for type checking
only are quoted there.
"""
