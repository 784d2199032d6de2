"""Flask-WTF forms of the shop pages (labels are lazy English msgids)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from merchant import hours
from merchant.services import CATEGORIES

REQUIRED = _l("Fill this in.")
# Per weekday two periods of opening and closing time; merchant.hours checks them all.
HOUR_LABELS = {
    (1, "opens"): _l("Opens"),
    (1, "closes"): _l("Closes"),
    (2, "opens"): _l("Opens again"),
    (2, "closes"): _l("Closes again"),
}


def hour_field(day: str, period: int, end: str) -> str:
    """Return the name of one time field, e.g. ``monday_2_closes``."""
    return f"{day}_{period}_{end}"


class HoursFields:
    """Opening hours on a form: a time field per weekday, period and end, and a note."""

    hours_note = StringField(
        _l("Note (optional)"),
        render_kw={"autocomplete": "off", "maxlength": hours.MAX_NOTE},
    )

    def week(self) -> hours.Week:
        """Return the checked week; raise ``HoursRefused`` with every problem."""
        data = {
            d: [
                tuple(
                    self[hour_field(day, n, end)].data or ""  # type: ignore[index]
                    for end in ("opens", "closes")
                )
                for n in (1, 2)
            ]
            for d, day in enumerate(hours.DAYS)
        }
        return hours.parse_week(data, self.hours_note.data)  # type: ignore[arg-type]

    def fill(self, week: hours.Week) -> None:
        """Show a stored week in the fields."""
        for d, day in enumerate(hours.DAYS):
            for n, period in enumerate(week.days[d], start=1):
                self[hour_field(day, n, "opens")].data = hours.hhmm(period.opens)  # type: ignore[index]
                self[hour_field(day, n, "closes")].data = hours.hhmm(period.closes)  # type: ignore[index]
        self.hours_note.data = week.note or ""


for _day in hours.DAYS:
    for (_n, _end), _label in HOUR_LABELS.items():
        setattr(
            HoursFields,
            hour_field(_day, _n, _end),
            StringField(
                _label,
                render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 5},
            ),
        )


class ApplyForm(HoursFields, FlaskForm):
    """The public application of a shop (opening hours optional)."""

    name = StringField(_l("Name of the shop"), validators=[DataRequired(REQUIRED), Length(max=120)])
    kvk = StringField(
        _l("KvK number (8 digits)"),
        validators=[DataRequired(REQUIRED), Length(max=12)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    iban = StringField(
        _l("IBAN (bank account for payouts)"),
        validators=[DataRequired(REQUIRED), Length(max=42)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    address = StringField(
        _l("Street and number"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "street-address"},
    )
    postcode = StringField(
        _l("Postcode"),
        validators=[DataRequired(REQUIRED), Length(max=16)],
        render_kw={"autocomplete": "postal-code"},
    )
    city = StringField(_l("Town"), validators=[DataRequired(REQUIRED), Length(max=80)])
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice(k, v) for k, v in CATEGORIES.items()],
        validators=[DataRequired(REQUIRED)],
    )
    email = EmailField(
        _l("Contact e-mail of the shop"),
        validators=[DataRequired(REQUIRED), Email(), Length(max=200)],
    )
    owner_name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    owner_email = EmailField(
        _l("Your e-mail address (to log in)"),
        validators=[DataRequired(REQUIRED), Email(), Length(max=200)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Choose a password (at least 12 characters)"),
        validators=[DataRequired(REQUIRED), Length(min=12, max=200)],
        render_kw={"autocomplete": "new-password"},
    )


class StaffForm(FlaskForm):
    """A new cashier."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(REQUIRED), Email()])
    password = PasswordField(
        _l("Password for this cashier (at least 12 characters)"),
        validators=[DataRequired(REQUIRED), Length(min=12, max=200)],
        render_kw={"autocomplete": "new-password"},
    )


class IbanForm(FlaskForm):
    """A new IBAN, confirmed with the owner's password."""

    iban = StringField(
        _l("New IBAN"),
        validators=[DataRequired(REQUIRED), Length(max=42)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Your password (to confirm)"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class RefundForm(FlaskForm):
    """Amount and reason of a refund."""

    amount = StringField(
        _l("Amount to refund"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=300)])


class HoursForm(HoursFields, FlaskForm):
    """The shop's opening hours, changed by the owner."""


class PeriodForm(FlaskForm):
    """A period filter (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])


class ButtonForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""
