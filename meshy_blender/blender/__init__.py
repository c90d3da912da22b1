"""Everything that touches bpy: import, export, operators, panels, the pump.

:mod:`.pump` and :mod:`.session` are offered on first use (``from . import pump`` gives a stand-in
that imports the module when one of its names is first read): the sidebar's modules name them,
and an offline start loads neither; the pump loads at its timer's first tick with a job manager
(see :mod:`..lazy_names`).
"""

from ..lazy_names import first_use

__getattr__ = first_use(__package__ or "", globals(), submodules={"pump", "session"})
