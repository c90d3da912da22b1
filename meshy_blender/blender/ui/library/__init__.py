"""The Library panel (the artist's kept results, with thumbnails) and the Asset Browser button."""
