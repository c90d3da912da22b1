"""The scene: importing results, exporting inputs, materials, .blend files and their identity.

:mod:`.file_identity` is offered on first use, as in :mod:`..` (the sidebar's operators name it).
"""

from ...lazy_names import first_use

__getattr__ = first_use(__package__ or "", globals(), submodules={"file_identity"})
