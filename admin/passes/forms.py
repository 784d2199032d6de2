"""Forms of the pass pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice


class PrintForm(FlaskForm):
    """How to print: layout and language."""

    layout = RadioField(
        _l("Layout"),
        choices=[
            SelectChoice("a4", _l("A4 sheets, ten passes each, with cut marks")),
            SelectChoice("card", _l("One pass per page (card printer)")),
        ],
        default="a4",
    )
    language = RadioField(
        _l("Language"),
        choices=[SelectChoice("nl", _l("Dutch")), SelectChoice("en", _l("English"))],
        default="nl",
    )


class SettingForm(FlaskForm):
    """One pass per household or per child."""

    per = RadioField(
        _l("One pass per"),
        choices=[SelectChoice("household", _l("household")), SelectChoice("child", _l("child"))],
    )


class ButtonForm(FlaskForm):
    """A button that only needs the CSRF token."""
