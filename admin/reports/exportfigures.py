"""The public dashboard's money figures recomputed from a ledger export, without a database.

An auditor holding an export (``kindpakket ledger export``, format 2) can check the public
figures (:mod:`admin.publicfigures`) per fund: budget issued, spent at shops, refunded, left
in the children's budgets, and spending per ISO week. Account names say which fund money
belongs to (:mod:`kindpakket.accounts`); a child's budget belongs to the fund it was issued
from. What the export does not hold cannot be recomputed: shop categories, household and
child counts, uptake, and which cells the dashboard suppresses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click

from kindpakket import time as clock
from kindpakket.accounts import maybe_account
from kindpakket.money import format_euro
from ledger.encoding import decode
from ledger.export import ExportError, read_lines, verify_export

NOT_IN_EXPORT = (
    "winkelcategorieën / shop categories",
    "aantallen huishoudens en kinderen, bereik / household and child counts, uptake",
    "onderdrukte cellen (minder dan 10 huishoudens) / suppressed cells (under 10 households)",
)


@dataclass
class FundFigures:
    """One fund's money as the export shows it (integer cents)."""

    issued_cents: int = 0  # out of the fund into children's budgets (issue, top-up)
    spent_cents: int = 0  # from budgets to shops
    refunded_cents: int = 0  # from shops back to budgets
    returned_cents: int = 0  # from budgets back to the fund (expiry, revocation)
    left_cents: int = 0  # still in the children's budgets
    weeks: dict[str, list[int]] = field(default_factory=dict)  # "2026-W03" -> [spent, refunded]


def compute(lines: Iterable[bytes]) -> dict[int, FundFigures]:
    """Return the figures per fund from the exported entries' bytes (in ledger order)."""
    figures: dict[int, FundFigures] = defaultdict(FundFigures)
    voucher_fund: dict[int, int] = {}
    balances: dict[int, int] = defaultdict(int)
    for data in lines:
        entry = decode(data)
        parsed = [(maybe_account(p.account), p.amount) for p in entry.postings]
        funds = {a.id for a, _ in parsed if a is not None and a.kind in {"fund", "payable"}}
        for account, amount in parsed:
            if account is not None and account.kind == "voucher":
                balances[account.id] += amount
                if len(funds) == 1:
                    voucher_fund.setdefault(account.id, next(iter(funds)))
        for account, amount in parsed:
            if account is None or account.kind == "voucher" or account.fund_id is None:
                continue
            if not any(a is not None and a.kind == "voucher" for a, _ in parsed):
                continue  # deposits and payouts do not touch children's budgets
            fund = figures[account.fund_id]
            if account.kind == "fund":
                if amount < 0:
                    fund.issued_cents -= amount
                else:
                    fund.returned_cents += amount
            elif account.kind == "payable":
                week = _week(entry.timestamp)
                cell = fund.weeks.setdefault(week, [0, 0])
                if amount > 0:
                    fund.spent_cents += amount
                    cell[0] += amount
                else:
                    fund.refunded_cents -= amount
                    cell[1] -= amount
    for voucher, cents in balances.items():
        if voucher in voucher_fund:
            figures[voucher_fund[voucher]].left_cents += cents
    return dict(figures)


def _week(timestamp: str) -> str:
    """Return the ISO week of an entry's Dutch day, labelled as the reports label it."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    year, week, _ = clock.local_day(moment).isocalendar()
    return f"{year}-W{week:02d}"  # as admin.reports labels weeks


@click.command("public-figures")
@click.option(
    "--from",
    "directory",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="an export directory (kindpakket ledger export)",
)
@click.option("--fund", "fund_id", type=int, default=None, help="only this fund id")
def public_figures(directory: Path, fund_id: int | None) -> None:
    """Recompute the public dashboard's money figures from a ledger export (no database)."""
    try:
        verified = verify_export(directory).ok
    except ExportError as err:
        raise click.ClickException(str(err)) from err
    if not verified:
        raise click.ClickException(
            "de export klopt niet, eerst `kindpakket ledger verify` / "
            "the export does not verify; run `kindpakket ledger verify` first"
        )
    figures = compute(read_lines(directory))
    for key in sorted(figures):
        if fund_id is not None and key != fund_id:
            continue
        f = figures[key]
        click.echo(
            f"fonds / fund {key}: uitgegeven / issued {format_euro(f.issued_cents)}; "
            f"besteed / spent {format_euro(f.spent_cents)}; "
            f"teruggeboekt / refunded {format_euro(f.refunded_cents)}; "
            f"terug naar fonds / returned {format_euro(f.returned_cents)}; "
            f"over / left {format_euro(f.left_cents)}"
        )
        for week in sorted(f.weeks):
            spent, refunded = f.weeks[week]
            click.echo(f"  {week}\t{format_euro(spent)}\t{format_euro(refunded)}")
    click.echo("niet uit een export te berekenen / cannot be recomputed from an export:")
    for item in NOT_IN_EXPORT:
        click.echo(f"  - {item}")
