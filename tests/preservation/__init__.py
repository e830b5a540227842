"""Tests of preservation: fixity, second copy, bags, crash recovery."""
