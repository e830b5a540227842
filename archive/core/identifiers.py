"""Opaque public identifiers that are never reused."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from archive.core.extensions import db

# Crockford-style alphabet without i, l, o, u: no confusable characters when read aloud or typed.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PREFIXES = {"record": "r", "media": "m"}


def mint_identifier(kind: str, length: int = 10) -> str:
    """Mint a new random identifier for *kind* and register it so it can never be issued again."""
    from archive.records.models import IssuedIdentifier

    prefix = PREFIXES[kind]
    while True:
        candidate = prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))
        if db.session.get(IssuedIdentifier, candidate) is None:
            db.session.add(IssuedIdentifier(identifier=candidate, kind=kind))
            db.session.flush()
            return candidate


def register_identifier(identifier: str, kind: str) -> bool:
    """Register an identifier that arrives from outside (an import); False if it was ever issued."""
    from archive.records.models import IssuedIdentifier

    if db.session.execute(select(IssuedIdentifier).filter_by(identifier=identifier)).first():
        return False
    db.session.add(IssuedIdentifier(identifier=identifier, kind=kind))
    db.session.flush()
    return True
