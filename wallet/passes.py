"""Use cases of the Kindpakket pass: issue, block, replace, PIN letters, requests, balances.

Which voucher a pass pays from (decided here, documented in the README):

* a per-child pass pays from that child's voucher only;
* a per-household pass pays from the household's voucher in the pass's fund with the most
  budget left (ties: the oldest child). If that one has too little, the payment is refused
  with ``insufficient_balance``: one payment never takes money from two children's budgets.

The PIN is the pass PIN from a PIN letter when the household has one, else its wallet PIN.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from kindpakket.accounts import voucher_account
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from kindpakket.keys import Keyring, KeyringError
from kindpakket.passwords import hash_secret, verify_secret
from kindpakket.pinmac import LETTER
from ledger import store
from wallet.models import Child, Fund, Household, Voucher
from wallet.passcode import PassCodeError, make_pass_code, read_pass_code
from wallet.passmodels import (
    MAX_PIN_FAILURES,
    PER_CHILD,
    PER_HOUSEHOLD,
    FundPassSetting,
    Pass,
    PassPin,
    PassRequest,
)
from wallet.passpin import verifier

PIN_LETTER_DIGITS = 6


def _now() -> datetime:
    return datetime.now(UTC)


# -- setting -----------------------------------------------------------------------------------


def pass_per(session: Session, fund_id: int) -> str:
    """Return ``household`` or ``child``: what one pass of this fund is for."""
    row = session.get(FundPassSetting, fund_id)
    return row.per if row is not None else PER_HOUSEHOLD


def set_pass_per(session: Session, fund: Fund, per: str, *, actor: str) -> None:
    """Choose one pass per household or per child for the fund (new passes follow it)."""
    if per not in (PER_HOUSEHOLD, PER_CHILD):
        raise DomainError("pass_per_invalid", _l("Choose one pass per household or per child."))
    before = pass_per(session, fund.id)
    row = session.get(FundPassSetting, fund.id)
    if row is None:
        row = FundPassSetting(fund_id=fund.id)
        session.add(row)
    row.per = per
    row.updated_at = _now()
    record_event(
        session,
        "fund.pass_setting_changed",
        actor=actor,
        subject=f"fund:{fund.id}",
        funds=[fund.id],
        before={"per": before},
        after={"per": per},
    )


# -- codes ---------------------------------------------------------------------------------------


def pass_code(keyring: Keyring, pass_id: int) -> str:
    """Return the QR text printed on pass ``pass_id``."""
    kid, key = keyring.mac_key("pass")
    return make_pass_code(pass_id, kid, key)


def pass_id_from_code(text: str, keyring: Keyring) -> int | None:
    """Return the pass id an authentic code names, or None (forged or damaged)."""

    def lookup(kid: str) -> bytes:
        try:
            return keyring.mac_key("pass", kid)[1]
        except KeyringError as exc:
            raise LookupError(kid) from exc

    try:
        return read_pass_code(text, lookup)
    except PassCodeError:
        return None


def pass_from_code(session: Session, text: str, keyring: Keyring) -> Pass | None:
    """Return the pass an authentic code names, or None (forged, damaged or unknown)."""
    pass_id = pass_id_from_code(text, keyring)
    return None if pass_id is None else session.get(Pass, pass_id)


class AtTill(NamedTuple):
    """What a payment needs of a pass, read in one query."""

    id: int
    status: str
    pin_failures: int
    fund_id: int
    household_id: int
    child_id: int | None
    pin_hash: str | None  # the pass PIN's hash, else the wallet PIN's
    pin_mac: str | None  # the till's HMAC verifier of that PIN (wallet.passpin)
    pass_pin: bool  # True: the PIN is the pass PIN of a PIN letter


_AT_TILL = (
    select(
        Pass.id,
        Pass.status,
        Pass.pin_failures,
        Pass.fund_id,
        Pass.household_id,
        Pass.child_id,
        func.coalesce(PassPin.pin_hash, Household.pin_hash),
        case((PassPin.household_id.is_(None), Household.pin_mac), else_=PassPin.pin_mac),
        PassPin.household_id.is_not(None),
    )
    .join(Household, Household.id == Pass.household_id)
    .outerjoin(PassPin, PassPin.household_id == Pass.household_id)
    .where(Pass.id == bindparam("pass_id"))
)


def pass_at_till(session: Session, pass_id: int) -> AtTill | None:
    """Return the pass with the PIN hash it checks (one query: this is the payment path)."""
    found = session.execute(_AT_TILL, {"pass_id": pass_id}).one_or_none()
    return None if found is None else AtTill(*found)


def new_pin() -> str:
    """Return a random 6-digit PIN for a letter, never a trivial one (111111, 123456)."""
    from wallet.activation import check_pin_rules

    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LETTER_DIGITS))
        try:
            return check_pin_rules(pin)
        except DomainError:
            continue


# -- issuing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedPass:
    """A pass to print: its number and QR text, and the PIN when a PIN letter is due."""

    pass_id: int
    number: str
    code: str
    fund_name: str
    household_id: int
    pin: str | None  # printed once on the PIN letter, never stored in clear


def _numbers_in_use(session: Session) -> set[str]:
    return set(session.execute(select(Pass.number)).scalars())


def _fresh_number(taken: set[str]) -> str:
    while True:
        number = f"{secrets.randbelow(9 * 10**11) + 10**11}"  # 12 digits, no leading zero
        if number not in taken:
            taken.add(number)
            return number


def issue_passes(
    session: Session,
    fund: Fund,
    keyring: Keyring,
    *,
    actor: str,
    household_ids: list[int] | None = None,
) -> list[IssuedPass]:
    """Issue passes to the fund's households (all, or ``household_ids``) that have none yet.

    A household without a wallet PIN and without a pass PIN gets a PIN for a PIN letter.
    Returns what to print; an empty list when everyone already has a pass.
    """
    per = pass_per(session, fund.id)
    query = select(Household).where(Household.fund_id == fund.id).order_by(Household.id)
    if household_ids is not None:
        query = query.where(Household.id.in_(household_ids))
    households = list(session.execute(query).scalars())
    holders = _active_holders(session, fund.id)
    have_pin = set(session.execute(select(PassPin.household_id)).scalars())
    children = _children_with_vouchers(session, fund.id) if per == PER_CHILD else {}
    taken = _numbers_in_use(session)
    now = _now()
    made: list[tuple[Pass, str | None]] = []
    for household in households:
        owners = (
            [c for c in children.get(household.id, []) if ("c", c) not in holders]
            if per == PER_CHILD
            else ([None] if ("h", household.id) not in holders else [])
        )
        if not owners:
            continue
        pin = None
        if household.pin_hash is None and household.id not in have_pin:
            pin = new_pin()
            session.add(
                PassPin(
                    household_id=household.id,
                    pin_hash=hash_secret(pin),
                    pin_mac=verifier(keyring, LETTER, household.id, pin),
                    issued_at=now,
                )
            )
            have_pin.add(household.id)
        for child_id in owners:
            row = Pass(
                fund_id=fund.id,
                household_id=household.id,
                child_id=child_id,
                number=_fresh_number(taken),
                status="active",
                pin_failures=0,
                created_at=now,
                printed_at=now,
            )
            session.add(row)
            made.append((row, pin))
            pin = None  # one PIN letter per household
    if not made:
        return []  # nothing issued, nothing to record
    session.flush()  # the new passes' ids go into their QR codes
    record_event(
        session,
        "fund.passes_issued",
        actor=actor,
        subject=f"fund:{fund.id}",
        funds=[fund.id],
        after={
            "passes": len(made),
            "pin_letters": sum(1 for _, p in made if p),
            "per": per,
            "households": sorted({p.household_id for p, _ in made})[:50],
        },
    )
    kid, key = keyring.mac_key("pass")
    return [
        IssuedPass(p.id, p.number, make_pass_code(p.id, kid, key), fund.name, p.household_id, pin)
        for p, pin in made
    ]


def _active_holders(session: Session, fund_id: int) -> set[tuple[str, int]]:
    """Return ("h", household) and ("c", child) of the fund's active passes."""
    rows = session.execute(
        select(Pass.household_id, Pass.child_id).where(
            Pass.fund_id == fund_id, Pass.status == "active"
        )
    )
    return {("c", c) if c is not None else ("h", h) for h, c in rows}


def _children_with_vouchers(session: Session, fund_id: int) -> dict[int, list[int]]:
    rows = session.execute(
        select(Child.household_id, Child.id)
        .join(Voucher, Voucher.child_id == Child.id)
        .where(Child.fund_id == fund_id)
        .order_by(Child.birth_date, Child.id)
    )
    out: dict[int, list[int]] = {}
    for household_id, child_id in rows:
        out.setdefault(household_id, []).append(child_id)
    return out


def reprint(session: Session, passes: list[Pass], keyring: Keyring) -> list[IssuedPass]:
    """Return what to print for existing passes (no PIN: it was printed once)."""
    kid, key = keyring.mac_key("pass")
    names = {i: n for i, n in session.execute(select(Fund.id, Fund.name))}
    return [
        IssuedPass(
            p.id, p.number, make_pass_code(p.id, kid, key), names[p.fund_id], p.household_id, None
        )
        for p in passes
    ]


# -- blocking and replacing ------------------------------------------------------------------


def _scope(row: Pass) -> dict[str, Any]:
    return {"subject": f"pass:{row.id}", "funds": [row.fund_id]}


def block_pass(session: Session, row: Pass, *, reason: str, actor: str) -> None:
    """Block a pass at once (lost or stolen): every payment with it is refused."""
    if row.status != "active":
        raise DomainError("pass_not_active", _l("This pass is already blocked."))
    row.status = "blocked"
    row.blocked_reason = reason
    row.blocked_at = _now()
    record_event(session, "pass.blocked", actor=actor, **_scope(row), after={"reason": reason})


def replace_pass(session: Session, row: Pass, keyring: Keyring, *, actor: str) -> IssuedPass:
    """Retire a pass and issue a new one for the same household (and child)."""
    now = _now()
    if row.status == "replaced":
        raise DomainError("pass_not_active", _l("This pass was already replaced."))
    row.status = "replaced"
    row.blocked_reason = row.blocked_reason or "replaced"
    row.blocked_at = row.blocked_at or now
    new = Pass(
        fund_id=row.fund_id,
        household_id=row.household_id,
        child_id=row.child_id,
        number=_fresh_number(_numbers_in_use(session)),
        status="active",
        pin_failures=0,
        replaces_id=row.id,
        created_at=now,
        printed_at=now,
    )
    session.add(new)
    session.flush()  # the new id goes into the QR code
    record_event(session, "pass.replaced", actor=actor, **_scope(row), after={"new_pass": new.id})
    return reprint(session, [new], keyring)[0]


def issue_pin_letter(
    session: Session, household: Household, *, actor: str, keyring: Keyring | None = None
) -> str:
    """Give the household a new pass PIN (for a PIN letter) and unblock PIN-locked passes.

    With the keyring the till's verifier is written too; without it the till checks argon2id
    once and writes it then (wallet.passpin).
    """
    now = _now()
    pin = new_pin()
    mac = verifier(keyring, LETTER, household.id, pin)
    row = session.get(PassPin, household.id)
    if row is None:
        session.add(
            PassPin(
                household_id=household.id, pin_hash=hash_secret(pin), pin_mac=mac, issued_at=now
            )
        )
    else:
        row.pin_hash, row.pin_mac, row.issued_at = hash_secret(pin), mac, now
    unlocked = session.execute(
        update(Pass)
        .where(
            Pass.household_id == household.id,
            Pass.status == "blocked",
            Pass.blocked_reason == "pin",
        )
        .values(status="active", blocked_reason=None, blocked_at=None, pin_failures=0)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(update(Pass).where(Pass.household_id == household.id).values(pin_failures=0))
    record_event(
        session,
        "household.pass_pin_issued",
        actor=actor,
        subject=f"household:{household.id}",
        funds=[household.fund_id],
        after={"passes_unblocked": int(unlocked or 0)},
    )
    return pin


# -- the PIN at the till and on the balance page ------------------------------------------------


def pin_hash_of(session: Session, household: Household) -> str | None:
    """Return the hash the household's passes check: the pass PIN, else the wallet PIN."""
    row = session.get(PassPin, household.id)
    return row.pin_hash if row is not None else household.pin_hash


def pin_matches(session: Session, row: Pass, pin: str) -> bool:
    """Return True when ``pin`` is the PIN of the pass's household (counts nothing)."""
    return verify_secret(pin_hash_of(session, row.household), (pin or "").strip())


def record_pin_failure(session: Session, pass_id: int, *, actor: str) -> int:
    """Count a wrong PIN on the pass (atomic); block it at the third. Return the failures."""
    session.execute(
        update(Pass).where(Pass.id == pass_id).values(pin_failures=Pass.pin_failures + 1)
    )
    row = session.get(Pass, pass_id, populate_existing=True)
    if row is None:  # pragma: no cover - the id came from a pass just read
        return 0
    if row.pin_failures >= MAX_PIN_FAILURES and row.status == "active":
        row.status, row.blocked_reason, row.blocked_at = "blocked", "pin", _now()
        record_event(session, "pass.pin_locked", actor=actor, **_scope(row))
    else:
        left = max(0, MAX_PIN_FAILURES - row.pin_failures)
        record_event(
            session, "pass.pin_wrong", actor=actor, **_scope(row), after={"attempts_left": left}
        )
    return row.pin_failures


def reset_pin_failures(session: Session, row: Pass | AtTill) -> None:
    """Forget earlier wrong PINs after a right one."""
    if row.pin_failures:
        session.execute(update(Pass).where(Pass.id == row.id).values(pin_failures=0))


# -- which voucher pays ----------------------------------------------------------------------------


def paying_voucher(session: Session, row: Pass | AtTill) -> int | None:
    """Return the voucher a payment with this pass draws on (see the module's docstring)."""
    query = select(Voucher.id, Voucher.status).join(Child, Child.id == Voucher.child_id)
    if row.child_id is not None:
        query = query.where(Voucher.child_id == row.child_id)
    else:
        query = query.where(Child.household_id == row.household_id, Voucher.fund_id == row.fund_id)
    found = list(session.execute(query.order_by(Child.birth_date, Child.id)))
    if not found:
        return None
    active = [v for v, status in found if status == "active"] or [found[0][0]]
    if len(active) == 1:
        return active[0]
    left = store.balances(session, [voucher_account(v) for v in active])
    return max(active, key=lambda v: (left[voucher_account(v)], -active.index(v)))


# -- families: lost passes, requests, balance ----------------------------------------------------


def household_passes(session: Session, household_id: int) -> list[Pass]:
    """Return the household's passes, newest first."""
    return list(
        session.execute(
            select(Pass).where(Pass.household_id == household_id).order_by(Pass.id.desc())
        ).scalars()
    )


def household_pass(session: Session, household: Household, pass_id: int) -> Pass:
    """Return the household's pass ``pass_id`` (404 for anyone else's)."""
    row = session.get(Pass, pass_id)
    if row is None or row.household_id != household.id:
        raise DomainError("pass_not_found", _l("This pass was not found."))
    return row


def request_pass(session: Session, household: Household, *, actor: str) -> PassRequest:
    """Ask the municipality for a pass (one open request at a time)."""
    open_request = session.execute(
        select(PassRequest).where(
            PassRequest.household_id == household.id, PassRequest.handled_at.is_(None)
        )
    ).scalar()
    if open_request is not None:
        raise DomainError(
            "pass_requested",
            _l("You already asked for a pass. The municipality will send it by post."),
        )
    row = PassRequest(household_id=household.id, fund_id=household.fund_id, created_at=_now())
    session.add(row)
    record_event(
        session,
        "household.pass_requested",
        actor=actor,
        subject=f"household:{household.id}",
        funds=[household.fund_id],
    )
    return row


def open_requests(session: Session, fund_id: int) -> list[PassRequest]:
    """Return the fund's pass requests not yet handled, oldest first."""
    return list(
        session.execute(
            select(PassRequest)
            .where(PassRequest.fund_id == fund_id, PassRequest.handled_at.is_(None))
            .order_by(PassRequest.id)
        ).scalars()
    )


def mark_requests_handled(session: Session, household_ids: list[int]) -> None:
    """Close the open requests of households that have just been issued a pass."""
    if household_ids:
        session.execute(
            update(PassRequest)
            .where(PassRequest.household_id.in_(household_ids), PassRequest.handled_at.is_(None))
            .values(handled_at=_now())
        )


def pass_by_number(session: Session, number: str) -> Pass | None:
    """Return the pass with these printed digits (spaces ignored), or None."""
    digits = "".join(ch for ch in (number or "") if ch.isdigit())
    if len(digits) != 12:
        return None
    return session.execute(select(Pass).where(Pass.number == digits)).scalar_one_or_none()


def usage(session: Session, fund_id: int) -> list[dict[str, Any]]:
    """Return per household how it pays: ``phone``, ``pass``, ``both`` or ``none`` yet."""
    passes = dict(
        session.execute(
            select(Pass.household_id, func.count())
            .where(Pass.fund_id == fund_id, Pass.status == "active")
            .group_by(Pass.household_id)
        ).all()
    )
    asked = {r.household_id for r in open_requests(session, fund_id)}
    rows = []
    for h in session.execute(
        select(Household).where(Household.fund_id == fund_id).order_by(Household.reference)
    ).scalars():
        phone, card = h.activated_at is not None, bool(passes.get(h.id))
        way = "both" if phone and card else "phone" if phone else "pass" if card else "none"
        rows.append(
            {"household": h, "way": way, "passes": passes.get(h.id, 0), "requested": h.id in asked}
        )
    return rows
