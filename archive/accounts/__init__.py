"""People who use the archive: accounts, roles, sign-in security, password resets and invitations."""
