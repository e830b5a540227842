"""Preservation: fixity, a second copy of originals, BagIt export and import, recovery after crashes."""
