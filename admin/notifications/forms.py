"""Forms of the notification pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from admin.notifications import reminders as jobs  # noqa: F401 - registers the worker's daily jobs


class ReminderForm(FlaskForm):
    """The language of the printed reminders."""

    language = RadioField(
        _l("Language of the letters"),
        choices=[SelectChoice("nl", _l("Dutch")), SelectChoice("en", _l("English"))],
        default="nl",
    )
