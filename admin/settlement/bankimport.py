"""Importing the bank's files: status reports and statements close the loop of a settlement.

Lines are matched to our batches and payouts by the ids our pain.001 carries: MsgId and
PmtInfId are the batch's ``message_id`` (one block, batch booking), EndToEndId is the
payout's ``end_to_end_id``; only batches of the importing municipality are looked at.
Booked (camt BOOK, pain.002 ACSC/ACCC) -> the payout is booked; when every payout of an
exported batch is booked or returned, the batch is confirmed with the bank's date and
reference. Rejected (pain.002 RJCT) or returned (camt credit with a return reason) -> a
``payout.return`` entry (bank -> shop payable) makes the amount owed again, so the next
settlement pays it once more; a second return of the same payout is ignored. A whole
exported batch rejected is cancelled as a clerk would, with the bank's reason.
Everything else is kept as a line for the reconciliation page. The same file twice (by
SHA-256) changes nothing; a refused file changes nothing either.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from admin.models import BankFile, BankLine, Payout, SettlementBatch
from admin.settlement import bank_texts, bankxml
from admin.settlement import services as settlement
from admin.settlement.bankxml import BOOKED_STATUSES, BankFileError
from kindpakket.audit import record_event
from kindpakket.errors import DomainError
from kindpakket.time import today as amsterdam_today
from ledger import store
from merchant import services as shops
from merchant.models import payable_account
from wallet.models import Fund, Municipality

CHUNK = 500  # ids per IN (...) query


def refusal(err: BankFileError) -> DomainError:
    """Turn a refused file into a DomainError with the same code (words chosen when shown)."""
    return DomainError(err.code, bank_texts.message(err), **err.details)


def import_file(
    session: Session,
    municipality: Municipality,
    data: bytes,
    *,
    filename: str,
    actor: str,
    ip: str | None = None,
) -> tuple[BankFile, bool]:
    """Import a bank file; return it and whether it was new (False: seen before, no change)."""
    digest = hashlib.sha256(data).hexdigest()
    seen = session.execute(
        select(BankFile).where(
            BankFile.municipality_id == municipality.id, BankFile.sha256 == digest
        )
    ).scalar_one_or_none()
    if seen is not None:
        return seen, False
    try:
        parsed = bankxml.read(data)
    except BankFileError as err:
        raise refusal(err) from err
    _check_account(parsed, municipality)
    run = _Run(session, municipality, parsed, actor=actor, ip=ip)
    run.check_amounts()  # before anything changes: a file that does not add up is refused
    record = BankFile(
        municipality_id=municipality.id,
        sha256=digest,
        schema=parsed.schema,
        message_id=parsed.message_id[:35],
        filename=(filename or "bank.xml")[:200],
        summary={},
        xml=data,
        imported_by=actor,
        imported_at=datetime.now(UTC),
    )
    session.add(record)
    session.flush()  # the file id goes on its lines
    run.file = record
    run.apply()
    record.summary = dict(sorted(run.outcomes.items()))
    record_event(
        session,
        "bank_file.imported",
        actor=actor,
        subject=f"bank_file:{record.id}",
        tenant_id=municipality.id,
        after={
            "schema": parsed.schema,
            "message_id": record.message_id,
            "sha256": digest,
            "summary": record.summary,
        },
        ip=ip,
    )
    return record, True


def _check_account(parsed: bankxml.BankFile, municipality: Municipality) -> None:
    """Refuse a statement of another account than the municipality's."""
    if not parsed.account_iban or not municipality.iban:
        return
    try:
        account = IBAN(parsed.account_iban).compact
    except (SchwiftyException, ValueError):
        account = parsed.account_iban
    if account != municipality.iban:
        raise DomainError(
            "wrong_account",
            _l(
                "This statement is of account %(iban)s, not of the municipality's account.",
                iban=account,
            ),
            iban=account,
        )


class _Run:
    """One import: the file's lines, what they match, and what they did."""

    def __init__(
        self,
        session: Session,
        municipality: Municipality,
        parsed: bankxml.BankFile,
        *,
        actor: str,
        ip: str | None,
    ) -> None:
        self.session, self.municipality, self.parsed = session, municipality, parsed
        self.actor, self.ip = actor, ip
        self.file: BankFile | None = None
        self.outcomes: Counter[str] = Counter()
        e2es = {s.end_to_end_id for s in parsed.statuses if s.end_to_end_id}
        e2es |= {t.end_to_end_id for e in parsed.entries for t in e.txs if t.end_to_end_id}
        self.payouts = self._payouts(e2es)
        ids = {s.message_id for s in parsed.statuses} | {
            i for e in parsed.entries for i in (e.message_id, e.pmt_inf_id) if i
        }
        self.batches = self._batches(ids)
        self.funds: dict[int, Fund] = {}
        self.touched: dict[int, SettlementBatch] = {}
        self.lines: list[dict[str, Any]] = []
        self.booked_shops: set[int] = set()
        self.returned_shops: set[int] = set()

    # ---- lookups, within the municipality only -------------------------------------------

    def _scoped(self, query: Any) -> Any:
        return query.join(Fund, Fund.id == SettlementBatch.fund_id).where(
            Fund.municipality_id == self.municipality.id
        )

    def _payouts(self, e2es: Iterable[str]) -> dict[str, Payout]:
        found: dict[str, Payout] = {}
        for chunk in _chunks(sorted(e2es)):
            query = select(Payout).join(SettlementBatch, SettlementBatch.id == Payout.batch_id)
            rows = self.session.execute(
                self._scoped(query).where(Payout.end_to_end_id.in_(chunk))
            ).scalars()
            found.update({p.end_to_end_id: p for p in rows})
        return found

    def _batches(self, ids: Iterable[str]) -> dict[str, SettlementBatch]:
        found: dict[str, SettlementBatch] = {}
        for chunk in _chunks(sorted(ids)):
            rows = self.session.execute(
                self._scoped(select(SettlementBatch)).where(SettlementBatch.message_id.in_(chunk))
            ).scalars()
            found.update({b.message_id: b for b in rows})
        return found

    def _batch_of(self, *ids: str | None) -> SettlementBatch | None:
        return next((self.batches[i] for i in ids if i and i in self.batches), None)

    # ---- checks before anything changes ----------------------------------------------------

    def check_amounts(self) -> None:
        """Refuse the file when an amount differs from the payout or batch it names."""
        for s in self.parsed.statuses:
            payout = self.payouts.get(s.end_to_end_id or "")
            if payout and s.amount_cents is not None and s.amount_cents != payout.amount_cents:
                raise _mismatch(payout.end_to_end_id, s.amount_cents, payout.amount_cents)
        for e in self.parsed.entries:
            for t in e.txs:
                payout = self.payouts.get(t.end_to_end_id or "")
                if payout and t.amount_cents is not None and t.amount_cents != payout.amount_cents:
                    raise _mismatch(payout.end_to_end_id, t.amount_cents, payout.amount_cents)
            matched = [
                self.payouts[t.end_to_end_id] for t in e.txs if t.end_to_end_id in self.payouts
            ]
            if len(matched) == len(e.txs) and matched and None in [t.amount_cents for t in e.txs]:
                total = sum(p.amount_cents for p in matched)
                if total != e.amount_cents:
                    raise _mismatch(e.reference or "", e.amount_cents, total)
            batch = self._batch_of(e.message_id, e.pmt_inf_id)
            if batch is not None and not matched and e.status == "BOOK" and not e.credit:
                open_total = sum(p.amount_cents for p in _open(batch))
                if open_total and e.amount_cents != open_total:
                    raise _mismatch(batch.message_id, e.amount_cents, open_total)

    # ---- applying ----------------------------------------------------------------------------

    def apply(self) -> None:
        """Apply every line, then confirm the batches that are fully booked."""
        for s in self.parsed.statuses:
            self._status(s)
        for e in self.parsed.entries:
            self._entry(e)
        for batch in self.touched.values():
            self._maybe_confirm(batch)
        shops.iban_works(self.session, self.booked_shops - self.returned_shops)
        for start in range(0, len(self.lines), 1000):  # one multi-row insert, not 10 000 objects
            self.session.execute(insert(BankLine), self.lines[start : start + 1000])

    def _status(self, s: bankxml.Status) -> None:
        day, ref = self.parsed.created_on, self.parsed.message_id[:35]
        if s.end_to_end_id:
            payout = self.payouts.get(s.end_to_end_id)
            if payout is None:
                self._line("unmatched", s.end_to_end_id, 0, status=s.status, reason=s.reason)
            elif s.status == "RJCT":
                self._return(payout, s.reason, day, ref, status=s.status, outcome="rejected")
            elif s.status in BOOKED_STATUSES:
                self._book(payout, day, ref, status=s.status)
            else:
                self._line("accepted", s.end_to_end_id, 0, payout=payout, status=s.status)
            return
        batch = self._batch_of(s.message_id, s.pmt_inf_id)
        if batch is None:
            self._line("unmatched", s.pmt_inf_id or s.message_id, 0, status=s.status)
        elif s.status == "RJCT":
            self._reject_batch(batch, s.reason, day, ref)
        elif s.status in BOOKED_STATUSES:
            for payout in _open(batch):
                self._book(payout, day, ref, status=s.status)
        else:
            self._line("accepted", batch.message_id, 0, batch=batch, status=s.status)

    def _entry(self, e: bankxml.Entry) -> None:
        signed = e.amount_cents if e.credit else -e.amount_cents
        if e.status != "BOOK":
            self._line("pending", e.reference, signed, status=e.status[:4], day=e.booked_on)
            return
        matched = [t for t in e.txs if t.end_to_end_id in self.payouts]
        for t in e.txs:
            if t not in matched:
                cents = t.amount_cents if t.amount_cents is not None else 0
                self._line(
                    "unmatched",
                    t.end_to_end_id or e.reference,
                    cents if e.credit else -cents,
                    day=e.booked_on,
                    text=e.text,
                    reason=t.reason,
                )
        for t in matched:
            payout = self.payouts[t.end_to_end_id or ""]
            ref = (t.reference or e.reference or "")[:35] or None
            if e.credit and e.is_return:
                self._return(payout, t.reason, e.booked_on, ref, status="BOOK", outcome="returned")
            elif e.credit:
                self._line(
                    "difference",
                    payout.end_to_end_id,
                    payout.amount_cents,
                    payout=payout,
                    detail="credit_without_return",
                    day=e.booked_on,
                )
            else:
                self._book(payout, e.booked_on, ref, status="BOOK")
        if e.txs:
            return
        batch = self._batch_of(e.message_id, e.pmt_inf_id)
        if batch is not None and not e.credit and _open(batch):
            for payout in _open(batch):
                self._book(payout, e.booked_on, (e.reference or "")[:35] or None, status="BOOK")
        elif batch is not None and not e.credit:
            self._line("duplicate", e.reference, signed, batch=batch, day=e.booked_on)
        else:
            self._line("unmatched", e.reference, signed, day=e.booked_on, text=e.text, batch=batch)

    # ---- the three things a line can do ---------------------------------------------------------

    def _book(self, payout: Payout, day: date | None, ref: str | None, *, status: str) -> None:
        batch = payout.batch
        odd = (
            "booked_but_cancelled"
            if batch.status == "cancelled"
            else "booked_after_return"
            if payout.returned_seq is not None
            else None
        )
        if odd is not None:  # a booking we cannot apply: a difference for a clerk
            self._line(
                "difference",
                payout.end_to_end_id,
                -payout.amount_cents,
                payout=payout,
                detail=odd,
                status=status,
                day=day,
            )
        elif payout.booked_on is not None:
            self._line(
                "duplicate",
                payout.end_to_end_id,
                -payout.amount_cents,
                payout=payout,
                status=status,
                day=day,
            )
        else:
            payout.booked_on = day or amsterdam_today()
            payout.bank_reference = ref
            self.booked_shops.add(payout.shop_id)
            self.touched[batch.id] = batch
            self._line(
                "booked",
                payout.end_to_end_id,
                -payout.amount_cents,
                payout=payout,
                status=status,
                day=day,
            )

    def _return(
        self,
        payout: Payout,
        reason: str | None,
        day: date | None,
        ref: str | None,
        *,
        status: str,
        outcome: str,
    ) -> None:
        batch = payout.batch
        if payout.returned_seq is not None:
            self._line(
                "duplicate",
                payout.end_to_end_id,
                payout.amount_cents,
                payout=payout,
                status=status,
                reason=reason,
                day=day,
            )
            return
        if batch.status in ("cancelled", "draft"):
            self._line(
                "difference",
                payout.end_to_end_id,
                payout.amount_cents,
                payout=payout,
                detail=f"return_on_{batch.status}",
                status=status,
                reason=reason,
                day=day,
            )
            return
        fund = self._fund(batch.fund_id)
        (entry,) = store.append_many(
            self.session,
            [
                store.NewEntry(
                    "payout.return",
                    [
                        (fund.bank_account, -payout.amount_cents),
                        (payable_account(payout.shop_id, fund.id), payout.amount_cents),
                    ],
                    {
                        "batch": batch.id,
                        "shop": payout.shop_id,
                        "fund": fund.id,
                        "returns": payout.ledger_seq,
                        "reason": reason or "NARR",
                    },
                    f"payout.return:{payout.id}",
                )
            ],
        )
        payout.returned_seq, payout.return_reason = entry.seq, (reason or "NARR")[:4]
        payout.returned_on = day or amsterdam_today()
        shops.ask_to_check_iban(self.session, payout.shop_id, reason)
        self.returned_shops.add(payout.shop_id)
        self.touched[batch.id] = batch
        record_event(
            self.session,
            "payout.returned",
            actor=self.actor,
            subject=f"settlement_batch:{batch.id}",
            tenant_id=self.municipality.id,
            after={
                "shop_id": payout.shop_id,
                "end_to_end_id": payout.end_to_end_id,
                "cents": payout.amount_cents,
                "reason": payout.return_reason,
                "bank_reference": ref,
            },
            ip=self.ip,
        )
        self._line(
            outcome,
            payout.end_to_end_id,
            payout.amount_cents,
            payout=payout,
            status=status,
            reason=reason,
            day=day,
        )

    def _reject_batch(
        self, batch: SettlementBatch, reason: str | None, day: date | None, ref: str
    ) -> None:
        if batch.status == "exported" and all(p.returned_seq is None for p in batch.payouts):
            note = f"pain.002 {ref}: RJCT {reason or ''}".strip()
            settlement.cancel(
                self.session, batch, actor=self.actor, ip=self.ip, bank_rejection=note
            )
            self._line(
                "cancelled",
                batch.message_id,
                batch.total_cents,
                batch=batch,
                status="RJCT",
                reason=reason,
                day=day,
            )
            return
        if batch.status == "cancelled":
            self._line("duplicate", batch.message_id, 0, batch=batch, status="RJCT", day=day)
            return
        for payout in list(batch.payouts):
            self._return(payout, reason, day, ref, status="RJCT", outcome="rejected")

    def _maybe_confirm(self, batch: SettlementBatch) -> None:
        booked = [p for p in batch.payouts if p.booked_on is not None and p.returned_seq is None]
        if batch.status != "exported" or not booked or _open(batch):
            return
        last = max(booked, key=lambda p: p.booked_on or date.min)
        settlement.confirm(
            self.session,
            batch,
            actor=self.actor,
            ip=self.ip,
            booked_on=last.booked_on,
            bank_reference=last.bank_reference or self.parsed.message_id[:35],
        )

    # ---- helpers -------------------------------------------------------------------------------

    def _fund(self, fund_id: int) -> Fund:
        if fund_id not in self.funds:
            fund = self.session.get(Fund, fund_id)
            assert fund is not None
            self.funds[fund_id] = fund
        return self.funds[fund_id]

    def _line(
        self,
        outcome: str,
        reference: str | None,
        cents: int,
        *,
        payout: Payout | None = None,
        batch: SettlementBatch | None = None,
        detail: str | None = None,
        status: str | None = None,
        reason: str | None = None,
        day: date | None = None,
        text: str | None = None,
    ) -> None:
        assert self.file is not None
        batch = batch or (payout.batch if payout else None)
        self.outcomes[outcome] += 1
        self.lines.append(
            dict(
                file_id=self.file.id,
                municipality_id=self.municipality.id,
                fund_id=batch.fund_id if batch else None,
                batch_id=batch.id if batch else None,
                payout_id=payout.id if payout else None,
                outcome=outcome,
                detail=detail,
                reference=(reference or "")[:35] or None,
                amount_cents=cents,
                status=(status or "")[:4] or None,
                reason=(reason or "")[:4] or None,
                booked_on=day,
                text=text,
            )
        )


def _open(batch: SettlementBatch) -> list[Payout]:
    """Return the batch's payouts neither booked nor returned."""
    return [p for p in batch.payouts if p.booked_on is None and p.returned_seq is None]


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _mismatch(where: str, found: int, expected: int) -> DomainError:
    return DomainError(
        "amount_mismatch",
        _l(
            "The amount at %(where)s is %(found)s cents; we paid %(expected)s cents."
            " Nothing was applied.",
            where=where,
            found=found,
            expected=expected,
        ),
        where=where,
    )
