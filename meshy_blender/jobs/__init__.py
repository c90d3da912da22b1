"""Jobs: one user request, possibly several Meshy tasks, run off Blender's main thread."""
