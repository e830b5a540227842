"""Framework-free metadata standards: Dublin Core, vocabularies, calendars, CSV.

Nothing here imports Flask, SQLAlchemy or the archive application: functions take plain values and
return plain values, so the web app, workers, CLI commands and tests share them.
"""
