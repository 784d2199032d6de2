"""Forms of the audit-log page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional


class FilterForm(FlaskForm):
    """Filters of the audit log (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    name = SelectField(_l("What"), validators=[Optional()], validate_choice=False)
    actor = StringField(
        _l("Who (e.g. admin:3, shop_user:7, household:12 or cli)"),
        validators=[Optional(), Length(max=80)],
    )
    start = DateField(_l("From"), name="from", validators=[Optional()])
    end = DateField(_l("To"), name="to", validators=[Optional()])
    submit = SubmitField(_l("Filter"), name="")
