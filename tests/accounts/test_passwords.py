"""Minimum-strength rules of chosen passwords, and the hashing behind them."""

import pytest

from archive.accounts import passwords
from archive.accounts.passwords import password_problems
from tests.accounts import STRONG


def _messages(password, **kwargs):
    return [str(p) for p in password_problems(password, **kwargs)]


def test_a_long_unusual_password_passes(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert password_problems(STRONG, email="lan.nguyen@example.vn", name="Nguyễn Thị Lan") == []
        assert password_problems("x7#Qm!2vLp9&", email="a@b.vn") == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short pass", "at least 12 characters"),
        ("a" * 201, "at most 200 characters"),
        ("aaaaaaaaaaaaaa", "repeated character"),
        ("abababababab", "repeated character"),
        ("abcdefghijklmnop", "simple sequence"),
        ("12345678901234", "simple sequence"),
        ("9876543210987", "simple sequence"),
        ("qwertyuiopqwerty", "simple sequence"),
        ("Password1234", "most common"),
        ("matkhau 123456", "most common"),
        ("Correct Horse Battery Staple", "most common"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(app, password, expected):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        messages = _messages(password)
    assert any(expected in m for m in messages), messages


def test_the_email_and_the_name_may_not_be_in_the_password(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert _messages("my LanNguyen secret 77", email="lannguyen@example.vn") == [
            "The password must not contain your email address."
        ]
        assert _messages("xin chào Hoa Ban mùa xuân", name="hoa ban") == [
            "The password must not contain your name."
        ]
        assert _messages("hoabansaigon1988", name="Hoa Ban") == ["The password must not contain your name."]
        # Short local parts and names are too common to refuse.
        assert _messages("thu dong xuan ha 1975", email="ha@example.vn", name="Ha") == []


def test_the_common_list_is_our_own_and_long_enough_to_matter():
    assert len(passwords.COMMON_PASSWORDS) >= 50
    assert all(len(p) >= passwords.MIN_LENGTH for p in passwords.COMMON_PASSWORDS)


def test_hashes_are_scrypt_and_compare_composed_and_decomposed_forms(db):
    import unicodedata

    from archive.accounts.models import User

    user = User(email="hash@example.vn", display_name="Hash")
    before = user.session_token
    user.set_password(unicodedata.normalize("NFD", STRONG))
    assert user.password_hash.startswith("scrypt:")
    assert STRONG not in user.password_hash
    assert user.check_password(unicodedata.normalize("NFC", STRONG))
    assert not user.check_password(STRONG.upper())
    assert user.session_token != before and len(user.session_token) == 32
