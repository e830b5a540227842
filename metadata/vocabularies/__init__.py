"""Controlled vocabularies shipped with the archive: ethnic groups and the gazetteer."""
