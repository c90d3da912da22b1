"""The Meshy Bridge: a local receiver for the Meshy web app's "Send to Blender" button.

Plain Python (no bpy): ``policy`` decides which requests and download URLs are allowed,
``archive`` unpacks a model from a ZIP safely, ``fetch`` downloads what the web app sent,
``server`` is the HTTP server, ``handover`` makes a received model a job.
``meshy_blender.blender.bridge_glue`` connects it to Blender.

The two constants below are here, not in ``messages``/``handover``, so that the sidebar and
the preferences read them at enable without loading either.
"""

#: The port the web app sends to unless the preferences say otherwise.
DEFAULT_PORT = 5324
#: The ``kind`` of a job made from a received model.
JOB_KIND = "bridge"
