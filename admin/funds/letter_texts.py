"""The wording of activation letters, translated: :mod:`admin.letters` prints what this says.

English msgids; the Dutch texts are in admin/i18n/nl/h14-shape2.po. ``{placeholders}`` are
filled in per letter by :mod:`admin.letters`.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from admin.funds.letters import LANGUAGES, LetterTexts


def letter_texts(language: str) -> LetterTexts:
    """Return a letter's wording in ``language`` ("nl" or "en"); needs an app context."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; choose one of {LANGUAGES}")
    with force_locale(language):
        return LetterTexts(
            language=language,
            title=_("{fund}: the budget for your children"),
            greeting=_("Dear {parent},"),
            intro=_(
                "{municipality} gives your children a budget. You can use it to buy things for "
                "your children in local shops, such as clothes, school supplies or sports gear. "
                "You pay with your phone. You do not have to pay the money back."
            ),
            child=_("Child"),
            budget=_("Budget"),
            total=_("Total"),
            period=_(
                "You can use the budget from {start} until {end}. Money left after that expires."
            ),
            code_label=_("Your activation code"),
            code_hint=_("Scan the QR code with your phone, or go to:"),
            steps_title=_("How to pay"),
            steps=(
                _("Log in: scan the QR code or open the website, and type your activation code."),
                _("Choose your own PIN. Do not tell it to anyone."),
                _("In the shop: open the website and tap Pay."),
                _(
                    "Show the QR code on your screen at the till. The shop only sees whether "
                    "there is enough budget. The shop never sees your name."
                ),
                _(
                    "No smartphone? Ask the municipality for a Kindpakket pass. The shop scans "
                    "the pass and you type your PIN."
                ),
            ),
            keep=_("Keep this letter safe. Lost your code? Please contact {municipality}."),
            date=_("Date"),
            reference=_("Reference"),
        )
