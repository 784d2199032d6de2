"""Forms of the fund pages: the fund, the import, letters, reissues, top-ups."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from admin.funds import services as funds
from merchant.services import CATEGORIES


class FundForm(FlaskForm):
    """The settings of a new fund."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    start = DateField(_l("First day"), validators=[DataRequired()])
    end = DateField(_l("Last day on which payments are accepted"), validators=[DataRequired()])
    reference_date = DateField(
        _l("Reference date for ages (empty: the first day)"), validators=[Optional()]
    )
    budget = StringField(_l("Budget per child, e.g. 300,00"), validators=[DataRequired()])
    deposit = StringField(_l("Money put into the fund now, e.g. 150000,00"))
    age_bands = TextAreaField(
        _l("Amounts by age (optional), one band per line, e.g. 0-11:250,00"),
        validators=[Length(max=2000)],
    )
    max_age = IntegerField(
        _l("Age limit: oldest age on the reference date"),
        default=17,
        validators=[Optional(), NumberRange(min=0, max=funds.MAX_AGE_LIMIT)],
    )
    categories = SelectMultipleField(
        _l("Shop categories allowed (none ticked: all)"),
        choices=[SelectChoice(k, v) for k, v in CATEGORIES.items()],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,  # funds.parse_categories refuses unknown keys, naming the allowed
    )
    pro_rata = BooleanField(_l("Children added later get a part of the budget (pro rata)"))
    show_balance_to_shop = BooleanField(_l("Shops see the remaining budget"))


class UploadForm(FlaskForm):
    """A CSV file to check."""

    file = FileField(_l("CSV file"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    """Import the previewed file, named by its SHA-256."""

    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    filename = HiddenField(validators=[Length(max=200)])


class LettersForm(FlaskForm):
    """Which letters to print, in which language."""

    language = RadioField(
        _l("Language of the letters"),
        choices=[SelectChoice("nl", _l("Dutch")), SelectChoice("en", _l("English"))],
        default="nl",
    )
    scope = RadioField(
        _l("Households"),
        choices=[
            SelectChoice("pending", _l("Only households that have not activated yet")),
            SelectChoice("all", _l("All households (activated households get a new code too)")),
        ],
        default="pending",
    )


class ReissueForm(FlaskForm):
    """Re-issue one household's activation code and print its letter."""

    language = RadioField(
        _l("Language of the letter"),
        choices=[SelectChoice("nl", _l("Dutch")), SelectChoice("en", _l("English"))],
        default="nl",
    )


class TopupForm(FlaskForm):
    """A mid-year top-up of one child's budget."""

    child = SelectField(_l("Child"), validators=[DataRequired()])
    amount = StringField(
        _l("Amount to add, e.g. 50,00"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
