"""People who use the archive: accounts and roles (full access control comes with the access issue)."""
