"""Accounts and authentication: passwords, throttling, tokens, sessions, administration, mail."""

#: A password every rule accepts (22 characters, no name, no sequence).
STRONG = "Lúa nương mùa gặt 2026"
#: Another acceptable one.
STRONGER = "trống đồng vang xa mãi"
#: Requests in English, whose messages are the source strings.
EN = {"Accept-Language": "en"}
