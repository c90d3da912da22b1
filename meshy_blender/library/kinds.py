"""Where a library entry can come from and its kinds with their labels: data, nothing else.

Apart from :mod:`.entry` because the Library panel's kind filter is built from it when the
add-on is enabled, which should not load the entry's record code. :mod:`.entry` re-exports it.
"""

#: Where a result came from.
SOURCES = ("sidebar", "command", "batch", "bridge", "task-browser")

#: Entry kinds (the final task's kind, as the command spells it) and their labels.
KIND_LABELS = {
    "text-to-3d": "Text to 3D",
    "image-to-3d": "Image to 3D",
    "multi-image-to-3d": "Multi-image to 3D",
    "rigging": "Rigged",
    "animation": "Animated",
    "retexture": "Retextured",
    "remesh": "Remeshed",
    "uv-unwrap": "UV unwrapped",
    "resize": "Resized",
    "convert": "Converted",
    "bridge": "From the web app",
    "text-to-image": "Text to image",
    "image-to-image": "Image to image",
}
#: Kinds whose result is concept pictures (roles ``picture-1``…), not a model.
PICTURE_KINDS = ("text-to-image", "image-to-image")
