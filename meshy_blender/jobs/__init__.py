"""Jobs: one user request, possibly several Meshy tasks, run off Blender's main thread.

:mod:`.states` is offered on first use (see :mod:`..lazy_names`): the sidebar names it at enable.
"""

from ..lazy_names import first_use

__getattr__ = first_use(__package__ or "", globals(), submodules={"states"})
