"""Paying shops: settlement batches of payout entries, their SEPA file, confirm and cancel.

What a shop is owed up to a day is a ledger sum: its payable account's payments and refunds
dated up to the end of that day, plus every payout and payout reversal whatever their date
(so money paid is never paid again, and refunds after a payout are netted next time).
States: draft -> exported -> confirmed, or draft/exported -> cancelled (reversing entries).
An exported file may already be at the bank: it is cancelled only with the bank's word that
it rejected or did not execute the file, else the shops would be paid twice.
Execution dates are TARGET2 business days; another day is moved to the next one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from admin.models import Payout, SettlementBatch
from admin.notifications import notify
from admin.reports import rollup
from admin.reports.services import P, payable_accounts, payable_ids, today
from admin.settlement import businessdays, sepa, sepa_messages
from kindpakket.audit import record_event
from kindpakket.errors import DomainError, ServerFault
from kindpakket.iban import canonical_bic, compact_iban
from kindpakket.keys import Keyring
from ledger import proofs, store
from ledger.models import LedgerAccount
from merchant.models import Shop, payable_account
from wallet.models import Fund, Municipality

DATED = ("redemption", "refund")
MAX_REJECTION = 300
PAYOUTS = ("payout", "payout.reversal", "payout.return")  # a return is owed again


def sepa_refusal(err: sepa.SepaError, kind: type[DomainError] = DomainError) -> DomainError:
    """Turn a SepaError into a DomainError with the same code."""
    details: dict[str, Any] = {k: v for k, v in err.details.items() if isinstance(v, str | int)}
    return kind(err.code, sepa_messages.message(err), **details)


@dataclass(frozen=True)
class Owed:
    """What one shop is owed for a fund up to a day, and its payments not yet paid out."""

    shop_id: int
    cents: int
    payments: int


def owed(session: Session, fund: Fund, until: date) -> list[Owed]:
    """Return every shop's open balance for ``fund`` up to the end of ``until`` (Dutch day)."""
    accounts = payable_accounts(session, fund.id)

    def query(days: Any) -> Any:
        counted = or_(and_(days.c.kind.in_(DATED), days.c.day <= until), days.c.kind.in_(PAYOUTS))
        is_payment = and_(days.c.kind == "redemption", days.c.day <= until)
        return (
            select(
                days.c.account_id,
                func.sum(case((counted, days.c.amount), else_=0)),
                func.sum(case((is_payment, days.c.postings), else_=0)),
            )
            .where(days.c.account_id.in_(payable_ids(fund.id)), days.c.kind.in_(DATED + PAYOUTS))
            .group_by(days.c.account_id)
        )

    rows = rollup.summed(session, query, keys=1)
    paid_counts = dict(
        session.execute(
            select(Payout.shop_id, func.sum(Payout.payment_count))
            .join(SettlementBatch, SettlementBatch.id == Payout.batch_id)
            .where(
                SettlementBatch.fund_id == fund.id,
                SettlementBatch.status != "cancelled",
                Payout.returned_seq.is_(None),  # returned: its payments are paid again
            )
            .group_by(Payout.shop_id)
        ).all()
    )
    out = []
    for account_id, cents, payments in rows:
        shop_id = accounts.get(int(account_id))
        if shop_id is None or not cents:
            continue
        new_payments = int(payments) - int(paid_counts.get(shop_id) or 0)
        out.append(Owed(shop_id, int(cents), max(0, new_payments)))
    out.sort(key=lambda o: o.shop_id)
    return out


def _shop_problem(shop: Shop) -> str | None:
    """Return why a shop cannot be put in a SEPA file, or None."""
    try:
        compact_iban(shop.iban)
    except ValueError:
        return "invalid_iban"
    if shop.bic:
        try:
            canonical_bic(shop.bic)
        except ValueError:
            return "invalid_bic"
    if not sepa.to_sepa_text(shop.name):
        return "invalid_name"
    return None


def _check_request(municipality: Municipality, execution_date: date, version: str) -> None:
    """Refuse a run without a debtor account, with a past date or an unknown version."""
    if not municipality.iban:
        raise DomainError(
            "no_municipality_iban",
            _l("The municipality has no IBAN to pay from. Set it up first."),
        )
    if execution_date < today():
        raise DomainError(
            "execution_date_in_past",
            _l("The execution date is in the past."),
            execution_date=execution_date.isoformat(),
        )
    if version not in sepa.SCHEMAS:
        raise DomainError("unsupported_version", _l("Choose SEPA version 03 or 09."))


def execution_day(requested: date) -> date:
    """Return the day the bank can execute a file asked for ``requested`` (TARGET2 open)."""
    return businessdays.next_business_day(requested)


def _lock_fund(session: Session, fund: Fund) -> None:
    """Lock the fund row so that two settlements of one fund run one after the other."""
    session.execute(select(Fund.id).where(Fund.id == fund.id).with_for_update())


def settle(
    session: Session,
    fund: Fund,
    *,
    until: date,
    execution_date: date | None = None,
    version: str = "03",
    actor: str,
    ip: str | None = None,
) -> SettlementBatch:
    """Pay every shop what it is owed up to ``until``: payout entries, a batch, its SEPA file."""
    municipality = session.get(Municipality, fund.municipality_id)
    assert municipality is not None
    execution_date = execution_date or today()
    _check_request(municipality, execution_date, version)
    execution_date = execution_day(execution_date)  # the caller compares to say it moved
    _lock_fund(session, fund)
    rollup.refresh(session)  # a write transaction: keep the rollup short for the next readers
    balances = owed(session, fund, until)
    shops = {
        s.id: s
        for s in session.execute(
            select(Shop).where(Shop.id.in_([o.shop_id for o in balances]))
        ).scalars()
    }
    payable: list[Owed] = []
    skipped: list[dict[str, Any]] = []
    for o in balances:
        shop = shops[o.shop_id]
        problem = "negative_balance" if o.cents < 0 else _shop_problem(shop)
        if problem:
            skipped.append(
                {"shop_id": o.shop_id, "name": shop.name, "code": problem, "cents": o.cents}
            )
        else:
            payable.append(o)
    if not payable:
        raise DomainError(
            "nothing_to_pay",
            _l("There is nothing to pay for this period."),
            skipped=skipped,
        )
    now = datetime.now(UTC).replace(microsecond=0)
    batch = SettlementBatch(
        fund_id=fund.id,
        until_date=until,
        execution_date=execution_date,
        status="draft",
        message_id=f"KP-{fund.id}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(3).upper()}",
        pain_version=version,
        total_cents=sum(o.cents for o in payable),
        payout_count=len(payable),
        skipped=skipped,
        created_by=actor,
        created_at=now,
    )
    session.add(batch)
    session.flush()  # the batch id goes into the ledger entries and end-to-end ids
    entries = store.append_many(
        session,
        [
            store.NewEntry(
                "payout",
                [(payable_account(o.shop_id, fund.id), -o.cents), (fund.bank_account, o.cents)],
                {"batch": batch.id, "shop": o.shop_id, "fund": fund.id},
                f"payout:{batch.id}:{o.shop_id}",
            )
            for o in payable
        ],
    )
    payouts = [
        Payout(
            batch_id=batch.id,
            shop_id=o.shop_id,
            amount_cents=o.cents,
            payment_count=o.payments,
            end_to_end_id=f"KP-{batch.id}-{o.shop_id}",
            ledger_seq=e.seq,
        )
        for o, e in zip(payable, entries, strict=True)
    ]
    session.add_all(payouts)
    batch.xml = _build_file(fund, municipality, batch, payouts, shops, now)
    record_event(
        session,
        "settlement.created",
        actor=actor,
        subject=f"settlement_batch:{batch.id}",
        tenant_id=fund.municipality_id,
        after=_describe(batch),
        ip=ip,
    )
    return batch


def _remittance(fund: Fund, batch: SettlementBatch, payments: int) -> str:
    """Return the text on the shop's bank statement (Dutch: the shops are Dutch)."""
    name = sepa.to_sepa_text(fund.name)[:60]
    return f"{name} t/m {batch.until_date:%d-%m-%Y} batch {batch.id} {payments} betalingen"


def _build_file(
    fund: Fund,
    municipality: Municipality,
    batch: SettlementBatch,
    payouts: list[Payout],
    shops: dict[int, Shop],
    now: datetime,
) -> bytes:
    """Build and validate the SEPA file; its control sum is the ledger's payouts."""
    debtor = sepa.Debtor(municipality.name, municipality.iban or "", municipality.bic)
    transfers = [
        sepa.Transfer(
            p.end_to_end_id,
            shops[p.shop_id].name,
            shops[p.shop_id].iban,
            shops[p.shop_id].bic,
            p.amount_cents,
            _remittance(fund, batch, p.payment_count),
        )
        for p in payouts
    ]
    try:
        return sepa.build_credit_transfer(
            debtor,
            transfers,
            message_id=batch.message_id,
            execution_date=batch.execution_date,
            version=batch.pain_version,
            created_at=now,
        )
    except sepa.SepaError as err:
        raise sepa_refusal(err) from err


def _describe(batch: SettlementBatch) -> dict[str, Any]:
    """Return the batch as JSON-safe values for the audit log."""
    return {
        "status": batch.status,
        "fund_id": batch.fund_id,
        "until": batch.until_date.isoformat(),
        "execution_date": batch.execution_date.isoformat(),
        "total_cents": batch.total_cents,
        "payouts": batch.payout_count,
        "skipped": batch.skipped,
        "message_id": batch.message_id,
        "version": batch.pain_version,
        **({"bank_rejection": batch.cancel_reason} if batch.cancel_reason else {}),
        **({"confirm_reason": batch.confirm_reason} if batch.confirm_reason else {}),
        **({"booked_on": batch.booked_on.isoformat()} if batch.booked_on else {}),
        **({"bank_reference": batch.bank_reference} if batch.bank_reference else {}),
    }


def _change(
    session: Session,
    batch: SettlementBatch,
    status: str,
    *,
    allowed: tuple[str, ...],
    actor: str,
    ip: str | None,
) -> None:
    """Move a batch to ``status`` from one of ``allowed`` and record it."""
    if batch.status not in allowed:
        raise DomainError(
            "bad_batch_state",
            _l("This batch cannot go from %(old)s to %(new)s.", old=batch.status, new=status),
            state=batch.status,
        )
    before = _describe(batch)
    batch.status = status
    now = datetime.now(UTC)
    setattr(
        batch,
        {"exported": "exported_at", "confirmed": "confirmed_at"}.get(status, "cancelled_at"),
        now,
    )
    fund = session.get(Fund, batch.fund_id)
    record_event(
        session,
        f"settlement.{status}",
        actor=actor,
        subject=f"settlement_batch:{batch.id}",
        tenant_id=fund.municipality_id if fund else None,
        before=before,
        after=_describe(batch),
        ip=ip,
    )
    notify.payouts(session, batch, status)


def export_file(
    session: Session, batch: SettlementBatch, *, actor: str, ip: str | None = None
) -> bytes:
    """Return the batch's SEPA file, validated again; a draft becomes exported."""
    if batch.status == "cancelled" or batch.xml is None:
        raise DomainError("batch_cancelled", _l("This batch was cancelled."))
    if batch.status == "draft" and batch.execution_date < today():
        raise DomainError(
            "execution_date_in_past",
            _l("The execution date has passed. Cancel this batch and settle again."),
            execution_date=batch.execution_date.isoformat(),
        )
    try:
        sepa.validate_pain001(batch.xml, batch.pain_version)
    except sepa.SepaError as err:
        raise sepa_refusal(err, ServerFault) from err
    if batch.status == "draft":
        _change(session, batch, "exported", allowed=("draft",), actor=actor, ip=ip)
    return bytes(batch.xml)


def confirm(
    session: Session,
    batch: SettlementBatch,
    *,
    actor: str,
    ip: str | None = None,
    reason: str | None = None,
    booked_on: date | None = None,
    bank_reference: str | None = None,
) -> None:
    """Record that the bank has paid an exported batch: from its file, or by hand with a reason."""
    text = " ".join((reason or "").split())
    if not text and not bank_reference:
        raise DomainError(
            "confirm_reason_required",
            _l(
                "Say how you know the bank paid this batch (for example: seen on the bank"
                " statement of a day)."
            ),
        )
    if len(text) > MAX_REJECTION:
        raise DomainError(
            "confirm_reason_too_long",
            _l("Keep the reason to %(n)s characters.", n=MAX_REJECTION),
        )
    batch.confirm_reason = text or None
    batch.booked_on, batch.bank_reference = booked_on, bank_reference
    _change(session, batch, "confirmed", allowed=("exported",), actor=actor, ip=ip)


def cancel(
    session: Session,
    batch: SettlementBatch,
    *,
    actor: str,
    ip: str | None = None,
    bank_rejection: str | None = None,
) -> None:
    """Cancel a batch not yet confirmed: reversing entries put the money back on the shops.

    An exported batch needs ``bank_rejection``: the bank's rejection or its statement that
    the file was not executed (a reference or a short note), kept on the batch and audited.
    """
    rejection = " ".join((bank_rejection or "").split())
    if batch.status == "exported":
        if not rejection:
            raise DomainError(
                "bank_rejection_required",
                _l(
                    "This file was exported and may have been paid by the bank. Cancel it only"
                    " when the bank rejected it or did not execute it, and give the bank's"
                    " rejection (reference or note)."
                ),
            )
        if len(rejection) > MAX_REJECTION:
            raise DomainError(
                "bank_rejection_too_long",
                _l("Keep the bank's rejection to %(n)s characters.", n=MAX_REJECTION),
            )
        batch.cancel_reason = rejection
    _change(session, batch, "cancelled", allowed=("draft", "exported"), actor=actor, ip=ip)
    fund = session.get(Fund, batch.fund_id)
    assert fund is not None
    # A payout the bank already returned is owed again through its payout.return entry.
    payouts = sorted((p for p in batch.payouts if p.returned_seq is None), key=lambda p: p.shop_id)
    entries = store.append_many(
        session,
        [
            store.NewEntry(
                "payout.reversal",
                [
                    (fund.bank_account, -p.amount_cents),
                    (payable_account(p.shop_id, fund.id), p.amount_cents),
                ],
                {"batch": batch.id, "shop": p.shop_id, "fund": fund.id, "reverses": p.ledger_seq},
                f"payout.reversal:{batch.id}:{p.shop_id}",
            )
            for p in payouts
        ],
    )
    for p, e in zip(payouts, entries, strict=True):
        p.reversal_seq = e.seq


def ledger_total(session: Session, batch: SettlementBatch) -> int:
    """Return the sum of the batch's payout entries as the ledger holds them (bank legs)."""
    fund = session.get(Fund, batch.fund_id)
    assert fund is not None
    seqs = select(Payout.ledger_seq).where(Payout.batch_id == batch.id)
    bank = select(LedgerAccount.id).where(LedgerAccount.name == fund.bank_account)
    total = session.execute(
        select(func.coalesce(func.sum(P.amount), 0)).where(P.seq.in_(seqs), P.account_id.in_(bank))
    ).scalar_one()
    return int(total)


def batches(session: Session, fund: Fund) -> list[SettlementBatch]:
    """Return the fund's batches, newest first."""
    return list(
        session.execute(
            select(SettlementBatch)
            .where(SettlementBatch.fund_id == fund.id)
            .order_by(SettlementBatch.id.desc())
        ).scalars()
    )


def checkpoint(session: Session, key_dir: str | Path, origin: str) -> None:
    """Sign a ledger checkpoint (after a batch) with the instance's checkpoint key."""
    ring = Keyring(key_dir)
    ring.ensure("checkpoint")
    _, key = ring.signing_key("checkpoint")
    proofs.make_checkpoint(session, (origin, key), origin)
