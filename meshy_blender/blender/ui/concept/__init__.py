"""The Concept Images panel: text or images to concept pictures, their gallery, and Make 3D."""
