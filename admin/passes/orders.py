"""The municipality's side of passes: print in bulk or per household, replace, PIN letters.

The use cases of :mod:`wallet.passes` plus the printing of :mod:`admin.passes.printing`: every
call returns the PDFs to hand to the printer, and the audit log says what was printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.funds.letter_texts import pass_texts
from admin.funds.paper import addressee
from admin.passes import printing as passprint
from kindpakket.audit import record_event
from kindpakket.keys import Keyring
from wallet import passes
from wallet.models import Fund, Household
from wallet.passmodels import Pass


@dataclass(frozen=True)
class PassBatch:
    """What to print: the cards, and the PIN letters (None when no PIN letter is due)."""

    cards_pdf: bytes
    pins_pdf: bytes | None
    passes: int
    pin_letters: int


def _pin_letters(session: Session, fund: Fund, pins: dict[int, str]) -> list[passprint.PinLetter]:
    rows = session.execute(select(Household).where(Household.id.in_(list(pins)))).scalars()
    return [
        passprint.PinLetter(addressee(h, fund), pins[h.id])
        for h in sorted(rows, key=lambda h: h.id)
    ]


def _languages(session: Session, household_ids: Sequence[int]) -> dict[int, str | None]:
    """Return each household's own language (None when the import named none)."""
    ids, found = sorted(set(household_ids)), {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(Household.id, Household.language).where(Household.id.in_(chunk))
        found.update({i: language for i, language in session.execute(query)})
    return found


def _batch(
    session: Session,
    fund: Fund,
    issued: Sequence[passes.IssuedPass],
    *,
    layout: str,
    language: str,
) -> PassBatch | None:
    if not issued:
        return None
    own = _languages(session, [i.household_id for i in issued])
    cards = [passprint.Card(i.number, i.code, i.fund_name, own[i.household_id]) for i in issued]
    pdf = passprint.render_cards(cards, pass_texts, layout=layout, language=language)
    pins = {i.household_id: i.pin for i in issued if i.pin}
    letters = _pin_letters(session, fund, pins) if pins else []
    pins_pdf = (
        passprint.render_pin_letters(letters, pass_texts, language=language) if letters else None
    )
    return PassBatch(pdf, pins_pdf, len(issued), len(letters))


def print_passes(
    session: Session,
    fund: Fund,
    keyring: Keyring,
    *,
    actor: str,
    household_ids: list[int] | None = None,
    layout: str = "a4",
    language: str = "nl",
) -> PassBatch | None:
    """Issue passes to households of the fund that have none (all, or the ones named).

    Returns the PDFs, or None when every household already has a pass. Open requests of the
    households that got a pass are marked handled.
    """
    if layout not in passprint.LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    issued = passes.issue_passes(session, fund, keyring, actor=actor, household_ids=household_ids)
    passes.mark_requests_handled(session, sorted({i.household_id for i in issued}))
    return _batch(session, fund, issued, layout=layout, language=language)


def replace(
    session: Session,
    row: Pass,
    keyring: Keyring,
    *,
    actor: str,
    layout: str = "card",
    language: str = "nl",
) -> PassBatch:
    """Replace a lost or damaged pass; return the new card to print (same PIN)."""
    fund = session.get(Fund, row.fund_id)
    assert fund is not None
    new = passes.replace_pass(session, row, keyring, actor=actor)
    batch = _batch(session, fund, [new], layout=layout, language=language)
    assert batch is not None
    return batch


def new_pin_letter(
    session: Session,
    household: Household,
    *,
    actor: str,
    language: str = "nl",
    keyring: Keyring | None = None,
) -> bytes:
    """Issue a new pass PIN for the household and return its PIN letter."""
    pin = passes.issue_pin_letter(session, household, actor=actor, keyring=keyring)
    letters = _pin_letters(session, household.fund, {household.id: pin})
    pdf = passprint.render_pin_letters(letters, pass_texts, language=language)
    record_event(
        session,
        "household.pin_letter_printed",
        actor=actor,
        subject=f"household:{household.id}",
        funds=[household.fund_id],
        after={"language": language},
    )
    return pdf
