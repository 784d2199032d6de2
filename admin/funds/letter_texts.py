"""What printed paper says to a family, translated: activation letters, reminders, passes.

English msgids; the translations are in ``admin/i18n/<lang>/*.po`` (Dutch, and the family's
Turkish, Arabic, Polish and Ukrainian). Each function gives one paper's wording in one
language; the renderers (:mod:`admin.funds.letters`, :mod:`admin.notifications.reminder_letters`,
:mod:`admin.passes.printing`) ask it per household language and fill in the
``{placeholders}``. Needs an app context (outside one, the English msgids come back).
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from admin.funds.letters import LetterTexts
from admin.funds.paper import check_language
from admin.notifications.reminder_letters import ReminderTexts
from admin.passes.printing import PassTexts


def letter_texts(language: str) -> LetterTexts:
    """Return an activation letter's wording in ``language``."""
    check_language(language)
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


def reminder_texts(language: str) -> ReminderTexts:
    """Return a printed expiry reminder's wording in ``language``."""
    check_language(language)
    with force_locale(language):
        return ReminderTexts(
            language=language,
            title=_("{fund}: you still have {amount} left"),
            greeting=_("Dear {parent},"),
            left=_("Your children together still have {amount} of budget left in {fund}."),
            last_day=_(
                "You can use the budget until {end}. Money left after that expires. "
                "So please use it in time."
            ),
            how=_(
                "Paying works as always: open the website, tap Pay and show the QR code at the "
                "till. Cannot log in? Please contact {municipality}."
            ),
            keep=_(
                "Do you have an e-mail address? Add it in your wallet to get reminders by e-mail."
            ),
            date=_("Date"),
            reference=_("Reference"),
        )


def pass_texts(language: str) -> PassTexts:
    """Return the wording of a pass and its PIN letter in ``language``."""
    check_language(language)
    with force_locale(language):
        return PassTexts(
            language=language,
            brand=_("Kindpakket pass"),
            number=_("Pass number"),
            how=_("To pay: let the shop scan the QR code and type your PIN."),
            lost=_("Lost it? Block the pass in the app or call the municipality."),
            pin_title=_("Your PIN for the Kindpakket pass"),
            pin_intro=_(
                "With this PIN you pay with your Kindpakket pass ({fund}). The pass comes "
                "separately. In the shop, the shop scans the pass and you type the PIN on the "
                "shop's screen."
            ),
            pin_label=_("Your PIN"),
            pin_keep=_(
                "Tell nobody the PIN and do not keep it with the pass. After 3 wrong PINs the "
                "pass is blocked: then call {municipality}. Forgot the PIN? {municipality} "
                "sends you a new one."
            ),
        )
