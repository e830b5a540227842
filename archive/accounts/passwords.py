"""Minimum-strength rules for passwords chosen by people (hashing lives on ``User``)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 200

#: Passwords (compared in lower case, with and without spaces and punctuation) that are among the first
#: guesses of anyone trying accounts: keyboard walks, words with a counter, greetings, the archive's
#: own vocabulary, in English and Vietnamese. Written for this archive; shorter ones are already refused
#: by the length rule and are not listed.
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "mypassword123",
        "123456789012",
        "1234567890123",
        "12345678910111213",
        "123456123456",
        "123123123123",
        "987654321987",
        "111222333444",
        "qwerty123456",
        "qwertyqwerty",
        "1qaz2wsx3edc",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5y6",
        "zaq12wsxcde3",
        "asdfasdfasdf",
        "abcd12345678",
        "abc123abc123",
        "iloveyou1234",
        "iloveyouforever",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "changeme1234",
        "changemeplease",
        "administrator",
        "administrator1",
        "admin1234567",
        "adminadminadmin",
        "superman1234",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "trustno1trustno1",
        "correcthorsebatterystaple",
        "matkhau12345",
        "matkhau123456",
        "matkhaucuatoi",
        "anhyeuem1234",
        "emyeuanh1234",
        "anhyeuemnhieu",
        "vietnam12345",
        "vietnam123456",
        "vietnamvodich",
        "hanoi1234567",
        "saigon123456",
        "heritage1234",
        "archive12345",
        "luutrudisan123",
        "lehoidantoc123",
    }
)

#: Runs of characters that people type as "a password": alphabets, digits and keyboard rows.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)

_NOT_ALNUM = re.compile(r"[\W_]+")

TOO_SHORT = _l("The password must have at least %(num)s characters.", num=MIN_LENGTH)
TOO_LONG = _l("The password must have at most %(num)s characters.", num=MAX_LENGTH)
TOO_SIMPLE = _l(
    "The password must not be one repeated character, a repeated short pattern or a simple "
    "sequence such as 123456 or abcdef."
)
TOO_COMMON = _l("This password is one of the most common ones; choose another.")
CONTAINS_EMAIL = _l("The password must not contain your email address.")
CONTAINS_NAME = _l("The password must not contain your name.")


def _is_simple(text: str) -> bool:
    """One repeated character, a short repeated pattern, or a (cyclic) run of a known sequence."""
    if re.fullmatch(r"(.{1,4})\1+", text):
        return True
    for sequence in _SEQUENCES:
        # Repeated so that runs may wrap around (…7890123…), in both directions.
        cyclic = sequence * (len(text) // len(sequence) + 2)
        if text in cyclic or text in cyclic[::-1]:
            return True
    return False


def password_problems(password: str, *, email: str | None = None, name: str | None = None) -> list:
    """The reasons *password* is refused (translated lazy messages); empty when it is acceptable."""
    problems: list = []
    if len(password) < MIN_LENGTH:
        problems.append(TOO_SHORT)
    if len(password) > MAX_LENGTH:
        problems.append(TOO_LONG)
    lowered = password.casefold()
    squeezed = _NOT_ALNUM.sub("", lowered)
    if _is_simple(lowered) or (len(squeezed) >= 4 and _is_simple(squeezed)):
        problems.append(TOO_SIMPLE)
    elif lowered in COMMON_PASSWORDS or squeezed in COMMON_PASSWORDS:
        problems.append(TOO_COMMON)
    local_part = (email or "").split("@", 1)[0].strip().casefold()
    if len(local_part) >= 4 and local_part in lowered:
        problems.append(CONTAINS_EMAIL)
    name = (name or "").strip().casefold()
    if len(name) >= 4 and (name in lowered or (" " in name and name.replace(" ", "") in squeezed)):
        problems.append(CONTAINS_NAME)
    return problems
