"""The animation library in the Rig & Animate panel: search, categories, ticked actions."""
