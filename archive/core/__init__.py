"""Application core: extensions, internationalisation, storage, CLI."""
