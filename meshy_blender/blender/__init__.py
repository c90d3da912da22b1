"""Everything that touches bpy: import, export, operators, panels, the pump."""
