"""The JSON API (``/api/v1``: records, media, search, vocabularies, collections, exhibits; drafts, uploads
and submission with personal tokens), its OpenAPI document, and the page where tokens are made."""
