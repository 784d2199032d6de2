"""Forms of the wallet pages (Flask-WTF: CSRF token included)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

PIN_KW = {"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"}


class LoginForm(FlaskForm):
    """Activation code and PIN."""

    code = StringField(
        _l("Activation code"),
        description=_l("From your letter, for example KP-7F3K-Q9XM-2HDT-8WNC."),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    pin = PasswordField(
        _l("PIN"),
        description=_l("The PIN you chose yourself."),
        validators=[DataRequired(), Length(max=12)],
        render_kw=PIN_KW,
    )


class ActivateForm(FlaskForm):
    """Activation code and a new PIN, twice."""

    code = LoginForm.code
    pin = PasswordField(
        _l("Choose a PIN"),
        description=_l("5 to 12 digits. Do not tell anyone."),
        validators=[DataRequired(), Length(max=12)],
        render_kw={**PIN_KW, "autocomplete": "new-password"},
    )
    pin_again = PasswordField(
        _l("Type the PIN again"),
        validators=[DataRequired(), Length(max=12)],
        render_kw={**PIN_KW, "autocomplete": "new-password"},
    )


class PinForm(FlaskForm):
    """Only the PIN (to unblock a budget)."""

    pin = LoginForm.pin


class ButtonForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
