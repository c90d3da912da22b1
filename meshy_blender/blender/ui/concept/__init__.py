"""The Concept Images panel: text or images to concept pictures, their gallery, and Make 3D."""

from ....lazy_names import first_use

#: The gallery (what the concept panel draws) loads with the first draw (see :mod:`....lazy_names`).
__getattr__ = first_use(__package__ or "", globals(), submodules={"gallery"})
