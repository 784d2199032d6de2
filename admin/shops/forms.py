"""Forms of the shop pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional


class DecisionForm(FlaskForm):
    """A decision on one shop for one fund; a reason is needed to reject or suspend."""

    reason = StringField(_l("Reason (the shop sees it)"), validators=[Optional(), Length(max=500)])


class NameForm(FlaskForm):
    """The shop's legal name: the name its payouts are transferred to."""

    name = StringField(
        _l("Legal name (as registered with the KvK; used in bank transfers)"),
        validators=[DataRequired(), Length(max=120)],
    )
