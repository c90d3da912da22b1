"""The bounds and choices of Meshy's fields and the address of its API, apart from their checks (plain constants).

:mod:`.validation` checks requests against them; the add-on's properties read them when
their classes are defined, at enable, and importing this module costs nothing, where
importing the checks (and the GLB and image readers they use) would cost that start.
"""

#: Where Meshy's API is, unless the preferences or ``MESHY_BASE_URL`` say otherwise.
DEFAULT_BASE_URL = "https://api.meshy.ai"
MIN_POLYCOUNT = 100
MAX_POLYCOUNT = 300_000
#: Views of one object that Multi-image to 3D takes.
MAX_IMAGES = 4
DECIMATION_MODES = (1, 2, 3, 4)
#: Frame rates an animation can be resampled to.
POST_PROCESS_FPS = (24, 25, 30, 60)
#: The catalogue's endpoint that lists the image models (both image endpoints offer the same).
MODELS_ENDPOINT = "text-to-image"
#: Concept pictures' ratios, and those only the GPT Image models draw.
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4")
GPT_IMAGE_RATIOS = ("3:2", "2:3")
#: Pictures Image to image takes.
MAX_REFERENCE_IMAGES = 5
