"""``kindpakket ledger public-figures``: the public page's figures recomputed from an export.

An auditor holding a ledger export (``kindpakket ledger export``, format 2) recomputes the
figures the public spending page shows, at one of the export's signed checkpoints (default:
the newest), with no database: the export is verified first (every byte, link, balance,
checkpoint signature and consistency proof), then the first ``size`` entries are folded by
the page's own computation (:class:`admin.reports.publicfigures.Tally`). The amounts need
nothing but the export. Categories, household counts and which cells are hidden need the
register (``kindpakket ledger public-register``): without it they are left out, and said so.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

import click

from admin.reports.publicfigures import MIN_HOUSEHOLDS, PublicFigures, Register, Tally
from kindpakket.money import format_euro
from ledger.export import ExportError, read_lines, read_notes, verify_export

NOT_IN_EXPORT = (
    "winkelcategorieën / shop categories",
    "aantallen huishoudens, bereik / household counts, uptake",
    f"verborgen cellen (minder dan {MIN_HOUSEHOLDS} huishoudens) / "
    f"hidden cells (under {MIN_HOUSEHOLDS} households)",
)


def figures_at(
    directory: Path, size: int | None = None, register: Register | None = None
) -> tuple[int, dict[int, PublicFigures]]:
    """Verify the export, then return the checkpoint size and every fund's figures at it.

    Raises:
        click.ClickException: the export does not verify, or has no checkpoint of ``size``.
    """
    try:
        report = verify_export(directory)
        sizes = [s for s, _ in read_notes(directory)]
    except ExportError as err:
        raise click.ClickException(str(err)) from err
    if not report.ok:
        problem = report.problem
        raise click.ClickException(
            "de export klopt niet / the export does not verify: "
            f"{problem.code if problem else '?'}: {problem.message if problem else ''}"
        )
    if not sizes:
        raise click.ClickException(
            "de export heeft geen ondertekend controlepunt / the export holds no signed checkpoint"
        )
    size = max(sizes) if size is None else size
    if size not in sizes:
        raise click.ClickException(
            f"geen controlepunt / no checkpoint of size {size}; "
            f"in de export / in the export: {', '.join(map(str, sizes))}"
        )
    tally = Tally(register).add_all(islice(read_lines(directory), size))
    return size, {f: tally.figures(f) for f in tally.funds()}


def _read_register(path: Path | None) -> Register | None:
    if path is None:
        return None
    try:
        return Register.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as err:
        raise click.ClickException(f"{path}: {err}") from err


@click.command("public-figures")
@click.option(
    "--from",
    "directory",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="an export directory (kindpakket ledger export)",
)
@click.option("--at", "size", type=int, default=None, help="checkpoint size (default: newest)")
@click.option(
    "--register",
    "register_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the register file (kindpakket ledger public-register): categories, households",
)
@click.option("--fund", "fund_id", type=int, default=None, help="only this fund id")
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
def public_figures(
    directory: Path,
    size: int | None,
    register_path: Path | None,
    fund_id: int | None,
    as_json: bool,
) -> None:
    """Recompute the public spending page's figures from a ledger export (no database)."""
    register = _read_register(register_path)
    size, every = figures_at(directory, size, register)
    chosen = [f for f in sorted(every) if fund_id in (None, f)]
    if as_json:
        click.echo(json.dumps([every[f].to_json() for f in chosen], indent=1))
        return
    click.echo(f"controlepunt / checkpoint {size}: boekingen / entries 1-{size}")
    for key in chosen:
        _echo(every[key])
    if register is None:
        click.echo("niet uit een export te berekenen / cannot be recomputed from an export:")
        for item in NOT_IN_EXPORT:
            click.echo(f"  - {item}")


def _echo(f: PublicFigures) -> None:
    """Print one fund's figures as the public page shows them."""
    click.echo(
        f"fonds / fund {f.fund_id}: uitgegeven / issued {format_euro(f.issued_cents)}; "
        f"besteed / spent {format_euro(f.paid_cents)}; "
        f"teruggeboekt / refunded {format_euro(f.refunded_cents)}; "
        f"terug naar fonds / returned {format_euro(f.returned_cents)}; "
        f"over / left {format_euro(f.left_cents)}"
    )
    if f.households is not None:
        share = (
            f"{f.households_uptake_permille / 10:.1f} %".replace(".", ",")
            if f.uptake_shown
            else "niet getoond / not shown"
        )
        click.echo(
            f"  huishoudens met budget / households with a budget {f.households}; "
            f"gebruikt / used it {share}"
        )
    for title, cells in (("week", f.weeks), ("categorie / category", f.categories or ())):
        for c in cells:
            if c.suppressed:
                money = f"niet getoond / not shown (< {MIN_HOUSEHOLDS})"
            else:
                money = f"{format_euro(c.paid_cents or 0)}\t{format_euro(c.refunded_cents or 0)}"
            click.echo(f"  {title} {c.label}\t{money}")
