"""The headless `meshy` command: arguments, generation runs, and the headless engine under them.

Registered by :mod:`..registration` when the add-on is enabled (``blender -c meshy …``), and
imported only when it runs: :mod:`.command` brings in the argument parser, the job specs and,
through them, most of the job layer.
"""

#: The command's name in ``blender -c``.
COMMAND_ID = "meshy"
