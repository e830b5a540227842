"""The upload abuse corpus run through every upload path."""
