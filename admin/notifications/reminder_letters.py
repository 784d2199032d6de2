"""Printed expiry reminders for households without an e-mail address (look of the letters).

One A4 page per household that still has budget left in the fund and no usable e-mail
address (:func:`admin.notifications.reminders.letter_households`): the amount left and the
last day, in the household's own language (else the run's), worded by
:mod:`admin.funds.letter_texts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.funds import paper
from admin.notifications.reminders import letter_households
from wallet.models import Fund, Household


@dataclass(frozen=True)
class ReminderTexts:
    """The fixed wording of a reminder in one language."""

    language: str
    title: str
    greeting: str
    left: str
    last_day: str
    how: str
    keep: str
    date: str
    reference: str


@dataclass(frozen=True)
class Reminder:
    """Everything printed on one household's reminder."""

    to: paper.Addressee
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
            out.append(Reminder(paper.addressee(h, fund), left[h.id], fund.period_end))
    out.sort(key=lambda r: r.to.household_ref)
    return out


def render(
    items: list[Reminder],
    wording: Callable[[str], ReminderTexts],
    *,
    language: str = "nl",
    letter_date: date | None = None,
) -> bytes:
    """Render one A4 page per reminder, each in its household's language; return the PDF."""
    return paper.render_each(items, wording, _page, language=language, day=letter_date)


def _page(pdf: FPDF, item: Reminder, text: ReminderTexts, day: date) -> None:
    """Draw one household's reminder on a fresh page."""
    language, to = text.language, item.to
    amount = paper.format_euro(item.cents_left, language)
    end = paper.format_date(item.period_end, language)
    paper.sender(pdf, to)
    paper.address_window(pdf, to)
    paper.reference_block(pdf, to, (text.date, text.reference), paper.format_date(day, language))
    pdf.set_xy(paper.LEFT, 96)
    title = text.title.format(fund=to.fund_name, amount=amount)
    paper.write(pdf, title, size=15, bold=True, height=7)
    pdf.ln(2)
    paper.write(pdf, text.greeting.format(parent=to.parent_name), height=5.2)
    pdf.ln(1)
    paper.write(pdf, text.left.format(amount=amount, fund=to.fund_name), height=5.2)
    pdf.ln(2)
    paper.write(pdf, text.last_day.format(end=end), size=12, bold=True, height=6)
    pdf.ln(2)
    paper.write(pdf, text.how.format(municipality=to.municipality_name), height=5.2)
    pdf.ln(3)
    paper.write(pdf, text.keep, size=9, height=4.5)
    paper.footer(pdf, to, text.reference)
