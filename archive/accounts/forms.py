"""The account forms (all Flask-WTF, so every one carries a CSRF token)."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from archive.accounts.models import ROLES
from archive.accounts.passwords import MAX_LENGTH

#: Role names in the interface language.
ROLE_LABELS = {
    "researcher": _l("Researcher"),
    "contributor": _l("Contributor"),
    "curator": _l("Curator"),
    "administrator": _l("Administrator"),
}

#: Interface languages a mail can be written in.
LANGUAGE_LABELS = {"vi": "Tiếng Việt", "en": "English"}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def is_email_address(text: str) -> bool:
    """A plausible email address: one @, a dot in the domain, no spaces."""
    return bool(_EMAIL.fullmatch((text or "").strip())) and len(text.strip()) <= 254


def email_address(form, field) -> None:
    """WTForms validator: a plausible email address."""
    if field.data and not is_email_address(field.data):
        raise ValidationError(_l("Enter an email address such as name@example.vn."))


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


def _email_field() -> EmailField:
    return EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254), email_address],
    )


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_LENGTH)],
        description=_l("At least 12 characters; a few unrelated words make a good password."),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the new password a second time.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )
    return password, confirm


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Sign in"))


class ForgotPasswordForm(FlaskForm):
    """The address to send a password-reset link to."""

    email = _email_field()
    submit = SubmitField(_l("Send me a link"))


class NewPasswordForm(FlaskForm):
    """A new password, typed twice (password reset and accepting an invitation)."""

    password, confirm = _new_password_fields()
    submit = SubmitField(_l("Save the password"))


class ChangePasswordForm(FlaskForm):
    """The current password and a new one, typed twice."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    password, confirm = _new_password_fields()
    submit = SubmitField(_l("Change the password"))


class InviteForm(FlaskForm):
    """An administrator invites a person by email with a role."""

    email = _email_field()
    display_name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter the person's name.")), Length(max=200)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    # An unknown role is refused by the service, with its own message.
    role = SelectField(
        _l("Role"),
        choices=_role_choices(),
        default="contributor",
        validate_choice=False,
    )
    language = SelectField(
        _l("Language of the invitation mail"),
        choices=[SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items()],
    )
    submit = SubmitField(_l("Send the invitation"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        languages = current_app.config["LANGUAGES"]
        self.language.choices = [
            SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items() if code in languages
        ]


class RoleForm(FlaskForm):
    """Change the role of one account."""

    role = SelectField(_l("Role"), choices=_role_choices(), validate_choice=False)
    submit = SubmitField(_l("Change the role"))


class AccountActionForm(FlaskForm):
    """A button acting on one account (deactivate, reactivate, send the invitation again)."""

    submit = SubmitField()
