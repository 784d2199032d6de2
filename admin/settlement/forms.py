"""Forms of the settlement and bank-statement pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional


class SettleForm(FlaskForm):
    """Until which day to pay, when the bank should pay, which SEPA version."""

    until = DateField(_l("Pay payments up to and including"), validators=[DataRequired()])
    execution_date = DateField(
        _l("Day the bank pays (execution date)"), validators=[DataRequired()]
    )
    version = SelectField(
        _l("SEPA file version"),
        choices=[SelectChoice("03", "pain.001.001.03"), SelectChoice("09", "pain.001.001.09")],
        default="03",
    )


class BankFileForm(FlaskForm):
    """Upload a pain.002 status report or a camt.053/054 statement."""

    file = FileField(_l("Bank file (XML)"), validators=[FileRequired()])


class ActionForm(FlaskForm):
    """A button that changes a batch (CSRF token only)."""


class ConfirmForm(FlaskForm):
    """Confirm a batch by hand: how the clerk knows the bank paid."""

    reason = StringField(
        _l("How you know the bank paid (for example: bank statement of 12 March)"),
        validators=[Optional()],  # required and length-checked by the service
    )


class CancelForm(FlaskForm):
    """Cancel a batch; an exported one needs the bank's rejection."""

    bank_rejection = StringField(
        _l(
            "The bank's rejection: its reference or note saying it rejected or did not execute"
            " the file"
        ),
        validators=[Optional()],  # its length is checked by the service, with a clear message
    )


class ResolveForm(FlaskForm):
    """What the clerk did about a difference."""

    note = StringField(_l("What was done about it"), validators=[Optional()])
