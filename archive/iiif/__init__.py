"""IIIF Image API 3.0 (level 2) over the media pyramids."""
