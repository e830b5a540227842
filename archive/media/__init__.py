"""Media files attached to records (original facts now; derivatives come with the media pipeline)."""
