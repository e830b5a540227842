"""The review workflow of records: transitions with comments, revisions and notifications."""
