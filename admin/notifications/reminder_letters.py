"""Printed expiry reminders for households without an e-mail address (look of the letters).

One A4 page per household that still has budget left in the fund and no usable e-mail
address (:func:`admin.reminders.letter_households`): the amount left and the last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.funds import letters as look
from admin.notifications.reminders import letter_households
from wallet.models import Fund, Household


@dataclass(frozen=True)
class _Texts:
    """The fixed wording of a reminder in one language."""

    title: str
    greeting: str
    left: str
    last_day: str
    how: str
    keep: str
    date: str
    reference: str


TEXT: dict[str, _Texts] = {
    "nl": _Texts(
        title="{fund}: u heeft nog {amount} over",
        greeting="Beste {parent},",
        left="Uw kinderen hebben samen nog {amount} budget over bij {fund}.",
        last_day=(
            "U kunt het budget gebruiken tot en met {end}. Wat daarna over is, vervalt. "
            "Gebruik het dus op tijd."
        ),
        how=(
            "Betalen gaat zoals altijd: open de website, tik op Betalen en laat de QR-code "
            "zien bij de kassa. Kunt u niet inloggen? Neem contact op met {municipality}."
        ),
        keep=(
            "Heeft u een e-mailadres? Vul het in bij uw budget, dan krijgt u herinneringen "
            "per e-mail."
        ),
        date="Datum",
        reference="Kenmerk",
    ),
    "en": _Texts(
        title="{fund}: you still have {amount} left",
        greeting="Dear {parent},",
        left="Your children together still have {amount} of budget left in {fund}.",
        last_day=(
            "You can use the budget until {end}. Money left after that expires. "
            "So please use it in time."
        ),
        how=(
            "Paying works as always: open the website, tap Pay and show the QR code at the "
            "till. Cannot log in? Please contact {municipality}."
        ),
        keep="Do you have an e-mail address? Add it in your wallet to get reminders by e-mail.",
        date="Date",
        reference="Reference",
    ),
}


@dataclass(frozen=True)
class Reminder:
    """Everything printed on one household's reminder (names as the activation letter's)."""

    household_ref: str
    parent_name: str
    address: str
    postcode: str
    city: str
    fund_name: str
    municipality_name: str
    cents_left: int
    period_end: date


def reminders(session: Session, fund: Fund) -> list[Reminder]:
    """Return the reminders to print for ``fund``, in household reference order."""
    left = letter_households(session, fund)
    out: list[Reminder] = []
    ids = sorted(left)
    for start in range(0, len(ids), 500):
        for h in session.execute(
            select(Household).where(Household.id.in_(ids[start : start + 500]))
        ).scalars():
            out.append(
                Reminder(
                    household_ref=h.reference,
                    parent_name=h.parent_name,
                    address=h.address,
                    postcode=h.postcode,
                    city=h.city,
                    fund_name=fund.name,
                    municipality_name=fund.municipality.name,
                    cents_left=left[h.id],
                    period_end=fund.period_end,
                )
            )
    out.sort(key=lambda r: r.household_ref)
    return out


def render(
    items: list[Reminder], *, language: str = "nl", letter_date: date | None = None
) -> bytes:
    """Render one A4 page per reminder and return the PDF bytes."""
    if language not in TEXT:
        raise ValueError(f"unsupported language {language!r}")
    if not items:
        raise ValueError("render needs at least one reminder")
    text, day = TEXT[language], letter_date or date.today()
    pdf = look._new_pdf(language, day)
    for item in items:
        amount = look.format_euro(item.cents_left, language)
        end = look.format_date(item.period_end, language)
        pdf.add_page()
        look._sender(pdf, item)
        look._address_window(pdf, item)
        look._reference_block(pdf, item, text, look.format_date(day, language))
        pdf.set_xy(look.LEFT, 96)
        look._write(
            pdf, text.title.format(fund=item.fund_name, amount=amount), size=15, bold=True, height=7
        )
        pdf.ln(2)
        look._write(pdf, text.greeting.format(parent=item.parent_name), height=5.2)
        pdf.ln(1)
        look._write(pdf, text.left.format(amount=amount, fund=item.fund_name), height=5.2)
        pdf.ln(2)
        look._write(pdf, text.last_day.format(end=end), size=12, bold=True, height=6)
        pdf.ln(2)
        look._write(pdf, text.how.format(municipality=item.municipality_name), height=5.2)
        pdf.ln(3)
        look._write(pdf, text.keep, size=9, height=4.5)
        look._footer(pdf, item, text)
    return bytes(pdf.output())
