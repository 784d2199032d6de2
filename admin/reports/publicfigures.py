"""The public spending figures of a fund at a signed checkpoint: one computation, two callers.

The public page (:mod:`admin.reports.checkpointfigures`) and ``kindpakket ledger
public-figures`` (:mod:`admin.reports.exportfigures`) both feed :class:`Tally`, so they cannot
disagree. Its inputs are kept apart on purpose:

* **the ledger**: the hashed bytes of entries 1..N, N the size of a signed checkpoint. Every
  amount comes from them: budget issued (fund -> child's budget), paid in shops (budget ->
  shop), refunded (shop -> budget), returned (budget -> fund: expiry, withdrawal), the left
  over (what went in minus what went out), and the ISO week of each payment (the entry's
  time, as a Dutch day). Which fund, which shop and which budget come from the account names
  in the bytes (:mod:`kindpakket.accounts`).
* **the register** (:class:`Register`): what the municipality's tables say about accounts the
  bytes name, which no entry carries and no checkpoint signs: the category of each shop and
  the household of each child's budget. It groups amounts per category, counts households
  (how many had a budget at the checkpoint, how many paid) and decides which cells are
  hidden: a week or category in which fewer than ``MIN_HOUSEHOLDS`` households paid.

The bytes are read with ``json.loads``: the page's bytes are checked against the
checkpoint's Merkle root first, the command's export is verified strictly first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from kindpakket import time as clock
from kindpakket.accounts import maybe_account

MIN_HOUSEHOLDS = 10
UNKNOWN_CATEGORY = "unknown"  # a shop the register does not know
REGISTER_FORMAT = 1
_UNSEEN = object()
_decode = json.JSONDecoder().decode  # the bytes are UTF-8 JSON; see the module notes


@dataclass(frozen=True)
class Register:
    """The register's part: shop id -> category key, budget (voucher) id -> household id."""

    shop_categories: Mapping[int, str]
    voucher_households: Mapping[int, int]

    def to_json(self) -> dict[str, Any]:
        """Return the register as a JSON document (``kindpakket ledger public-register``)."""
        return {
            "format": REGISTER_FORMAT,
            "shops": {str(k): v for k, v in sorted(self.shop_categories.items())},
            "vouchers": {str(k): v for k, v in sorted(self.voucher_households.items())},
        }

    @classmethod
    def from_json(cls, doc: Any) -> Register:
        """Read a register document; raise ValueError when it is not one."""
        if not isinstance(doc, dict) or doc.get("format") != REGISTER_FORMAT:
            raise ValueError(f"not a format {REGISTER_FORMAT} register file")
        try:
            shops = {int(k): str(v) for k, v in doc["shops"].items()}
            vouchers = {int(k): int(v) for k, v in doc["vouchers"].items()}
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"register file: {exc}") from exc
        return cls(shops, vouchers)


@dataclass(frozen=True)
class Cell:
    """One row of a public table: a week or category key and its money, None when hidden."""

    label: str
    paid_cents: int | None
    refunded_cents: int | None

    @property
    def suppressed(self) -> bool:
        """Return True when fewer than ``MIN_HOUSEHOLDS`` households paid in this row."""
        return self.paid_cents is None


@dataclass(frozen=True)
class PublicFigures:
    """One fund's public figures over the first ``size`` entries of the ledger.

    ``households``, ``households_paid`` and ``categories`` come from the register and are
    None when it was not given (an export alone); then no cell is hidden either.
    """

    fund_id: int
    size: int
    issued_cents: int
    paid_cents: int
    refunded_cents: int
    returned_cents: int
    payments: int
    weeks: tuple[Cell, ...]
    households: int | None
    households_paid: int | None
    categories: tuple[Cell, ...] | None

    @property
    def left_cents(self) -> int:
        """Return what is still in the fund's budgets: in, minus paid, plus refunded, minus back."""
        return self.issued_cents - self.returned_cents - self.paid_cents + self.refunded_cents

    @property
    def uptake_shown(self) -> bool:
        """Return True when enough households had a budget to show the share that used it."""
        return self.households is not None and self.households >= MIN_HOUSEHOLDS

    @property
    def households_uptake_permille(self) -> int:
        """Return the share of households with a payment, in tenths of a percent (half up)."""
        whole, part = self.households or 0, self.households_paid or 0
        return (2000 * part + whole) // (2 * whole) if whole else 0

    def to_json(self) -> dict[str, Any]:
        """Return the figures as JSON (the page's cache, the command's ``--json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PublicFigures:
        """Return the figures written by :meth:`to_json`."""
        cells = doc["categories"]
        return cls(
            **{k: v for k, v in doc.items() if k not in ("weeks", "categories")},
            weeks=tuple(Cell(**c) for c in doc["weeks"]),
            categories=None if cells is None else tuple(Cell(**c) for c in cells),
        )


@dataclass(slots=True)
class _FundTally:
    """The running sums of one fund while the entries are folded (see :meth:`Tally.state`)."""

    issued: int = 0
    paid: int = 0
    refunded: int = 0
    returned: int = 0
    payments: int = 0
    # week or shop -> [paid, refunded, households that paid there]; the households are
    # counted up to MIN_HOUSEHOLDS only: enough to decide, and the union of such sets
    # still decides for a category of many shops.
    weeks: dict[str, list[Any]] = field(default_factory=dict)
    shops: dict[int, list[Any]] = field(default_factory=dict)
    budget_households: set[int] = field(default_factory=set)
    paying_households: set[int] = field(default_factory=set)

    def state(self) -> dict[str, Any]:
        """Return the sums as JSON."""

        def cells(found: dict[Any, list[Any]]) -> dict[str, list[Any]]:
            return {str(k): [p, r, sorted(h)] for k, (p, r, h) in found.items()}

        return {
            "sums": [self.issued, self.paid, self.refunded, self.returned, self.payments],
            "weeks": cells(self.weeks),
            "shops": cells(self.shops),
            "budget_households": sorted(self.budget_households),
            "paying_households": sorted(self.paying_households),
        }

    @classmethod
    def from_state(cls, doc: dict[str, Any]) -> _FundTally:
        """Return the sums written by :meth:`state`."""
        out = cls(*doc["sums"])
        out.weeks = {k: [p, r, set(h)] for k, (p, r, h) in doc["weeks"].items()}
        out.shops = {int(k): [p, r, set(h)] for k, (p, r, h) in doc["shops"].items()}
        out.budget_households = set(doc["budget_households"])
        out.paying_households = set(doc["paying_households"])
        return out


class Tally:
    """Fold entry bytes, in ledger order, into public figures per fund.

    The voucher -> household part of the register is applied as the entries are folded,
    the shop -> category part when the figures are made. A tally can be kept
    (:meth:`state`) and folded on from there (:meth:`from_state`), so the next checkpoint
    costs only its new entries.
    """

    def __init__(self, register: Register | None = None) -> None:
        self.register = register
        self.size = 0
        self._funds: dict[int, _FundTally] = {}
        self._names: dict[str, Any] = {}  # account name -> AccountName | None
        self._weeks: dict[str, str] = {}

    def state(self) -> dict[str, Any]:
        """Return what was folded so far as JSON (without the register)."""
        return {"size": self.size, "funds": {str(k): f.state() for k, f in self._funds.items()}}

    @classmethod
    def from_state(cls, doc: dict[str, Any], register: Register | None) -> Tally:
        """Return a tally that goes on from a kept :meth:`state`."""
        tally = cls(register)
        tally.size = int(doc["size"])
        tally._funds = {int(k): _FundTally.from_state(v) for k, v in doc["funds"].items()}
        return tally

    def add_all(self, lines: Iterable[bytes]) -> Tally:
        """Fold every entry of ``lines``; return self."""
        for data in lines:
            self.add(data)
        return self

    def add(self, data: bytes) -> None:
        """Fold one entry's bytes: only entries that move a child's budget count."""
        self.size += 1
        body = _decode(data.decode("utf-8"))
        names, budgets, others = self._names, [], []
        for name, amount in body["postings"]:
            account = names.get(name, _UNSEEN)
            if account is _UNSEEN:
                account = names[name] = maybe_account(name)
            if account is None:
                continue
            if account.kind == "voucher":
                budgets.append((account.id, amount))
            elif account.kind != "bank":
                others.append((account, amount))
        if not budgets:
            return  # deposits, payouts and their reversals touch no child's budget
        for account, amount in others:
            fund = self._funds.get(account.id)
            if fund is None:
                fund = self._funds[account.id] = _FundTally()
            if account.kind == "fund":
                self._fund_leg(fund, amount, budgets)
            else:
                self._shop_leg(fund, account.shop_id or 0, amount, budgets, body["ts"])

    def _households(self, budgets: list[tuple[int, int]], paid: bool) -> set[int]:
        """Return the households (register) of the budgets paid from (or paid into)."""
        if self.register is None:
            return set()
        known = self.register.voucher_households
        return {known[v] for v, n in budgets if (n < 0) is paid and v in known}

    def _fund_leg(self, fund: _FundTally, amount: int, budgets: list[tuple[int, int]]) -> None:
        if amount < 0:  # out of the fund into budgets: issue, top-up
            fund.issued -= amount
            fund.budget_households |= self._households(budgets, paid=False)
        else:  # back from budgets: expiry, withdrawal
            fund.returned += amount

    def _shop_leg(
        self, fund: _FundTally, shop: int, amount: int, budgets: list[tuple[int, int]], ts: str
    ) -> None:
        if amount > 0:  # a payment
            fund.paid += amount
            fund.payments += 1
            paying = self._households(budgets, paid=True)
            fund.paying_households |= paying
            column = 0
        else:  # a refund
            fund.refunded -= amount
            paying, column, amount = set(), 1, -amount
        _add(fund.weeks, self._week(ts), column, amount, paying)
        _add(fund.shops, shop, column, amount, paying)

    def _week(self, ts: str) -> str:
        """Return the ISO week of the entry's Dutch day ("2026-W03", as the reports write it).

        Amsterdam changes its offset only on a whole UTC hour, so one hour shares a week.
        """
        hour = ts[:13]
        week = self._weeks.get(hour)
        if week is None:
            moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
            year, number, _ = clock.local_day(moment).isocalendar()
            week = self._weeks[hour] = f"{year}-W{number:02d}"
        return week

    def funds(self) -> list[int]:
        """Return the funds whose budgets the folded entries moved."""
        return sorted(self._funds)

    def figures(self, fund_id: int) -> PublicFigures:
        """Return the public figures of ``fund_id`` over the entries folded so far."""
        fund = self._funds.get(fund_id) or _FundTally()
        known = self.register is not None
        return PublicFigures(
            fund_id=fund_id,
            size=self.size,
            issued_cents=fund.issued,
            paid_cents=fund.paid,
            refunded_cents=fund.refunded,
            returned_cents=fund.returned,
            payments=fund.payments,
            weeks=tuple(_cell(k, fund.weeks[k], known) for k in sorted(fund.weeks)),
            households=len(fund.budget_households) if known else None,
            households_paid=len(fund.paying_households) if known else None,
            categories=self._categories(fund) if self.register is not None else None,
        )

    def _categories(self, fund: _FundTally) -> tuple[Cell, ...]:
        """Return the category cells, largest net spending first; hidden ones last, by key.

        Hidden cells come last so that their place in the list tells nothing about their size.
        """
        assert self.register is not None
        grouped: dict[str, list[Any]] = {}
        for shop, (paid, refunded, households) in fund.shops.items():
            key = self.register.shop_categories.get(shop, UNKNOWN_CATEGORY)
            _add(grouped, key, 0, paid, households)
            grouped[key][1] += refunded
        cells = [_cell(k, v, True) for k, v in grouped.items()]
        shown = sorted(
            (c for c in cells if not c.suppressed),
            key=lambda c: (-((c.paid_cents or 0) - (c.refunded_cents or 0)), c.label),
        )
        return (*shown, *sorted((c for c in cells if c.suppressed), key=lambda c: c.label))


def _add(cells: dict[Any, list[Any]], key: Any, column: int, cents: int, paying: set[int]) -> None:
    """Add ``cents`` to column 0 (paid) or 1 (refunded) of a cell; note who paid, up to enough."""
    cell = cells.get(key)
    if cell is None:
        cell = cells[key] = [0, 0, set()]
    cell[column] += cents
    seen = cell[2]
    if paying and len(seen) < MIN_HOUSEHOLDS:
        seen.update(paying)


def _cell(key: str, cell: list[Any], judged: bool) -> Cell:
    """Return the cell, hidden when the register says fewer than the minimum households paid."""
    if judged and len(cell[2]) < MIN_HOUSEHOLDS:
        return Cell(key, None, None)
    return Cell(key, cell[0], cell[1])
