"""Curated virtual exhibitions: built by curators in the admin area, shown to visitors."""
