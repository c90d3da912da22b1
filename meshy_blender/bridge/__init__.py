"""The Meshy Bridge: a local receiver for the Meshy web app's "Send to Blender" button.

Plain Python (no bpy): ``policy`` decides which requests and download URLs are allowed,
``archive`` unpacks a model from a ZIP safely, ``fetch`` downloads what the web app sent,
``server`` is the HTTP server, ``handover`` makes a received model a job.
``meshy_blender.blender.bridge_glue`` connects it to Blender.
"""
