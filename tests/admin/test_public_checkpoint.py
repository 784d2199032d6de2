"""The public spending page shows the figures at the signed checkpoint it names (issue 15).

Payments after the checkpoint do not show until the next one; ``kindpakket ledger
public-figures`` recomputes exactly the page's figures from an export and the register.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from admin.models import PublicFiguresCache, PublicTally
from admin.reports import checkpointfigures
from admin.reports import services as reports
from admin.reports.publicfigures import Cell, Register, Tally
from ledger import proofs
from ledger.reading import entry_bytes
from merchant.models import Shop
from tests.admin.test_public_pages import Town, make_town
from tests.admin.workload import generate, pay, seed
from tests.ledger.test_tamper import drop_guards
from wallet.models import Fund, Voucher


def _pay_everyone_again(engine: Engine, town: Town, cents: int) -> None:
    with Session(engine) as s:
        fund = s.get(Fund, town.fund_id)
        assert fund is not None
        shop = s.execute(select(Shop).where(Shop.name == "Fietsenwinkel De Spaak")).scalar_one()
        for voucher in s.execute(select(Voucher).where(Voucher.fund_id == fund.id)).scalars():
            pay(s, fund, shop, voucher, cents)
        s.commit()


def _page(app: Flask, town: Town, lang: str = "nl") -> str:
    answer = app.test_client().get(f"/open/{town.slug}/spending/{town.fund_id}?lang={lang}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _kept(engine: Engine, town: Town) -> dict[int, dict[str, Any]]:
    """Return the figures the page kept, per checkpoint size."""
    with Session(engine) as s:
        rows = s.execute(
            select(PublicFiguresCache.size, PublicFiguresCache.figures).where(
                PublicFiguresCache.fund_id == town.fund_id
            )
        )
        return {int(size): dict(doc) for size, doc in rows}


def _cli_figures(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("ledger", "public-figures", *args, "--json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.output)
    return {str(f["fund_id"]): f for f in found}


def test_without_a_checkpoint_the_page_says_so_instead_of_figures(
    app: Flask, engine: Engine
) -> None:
    town = make_town(engine, 12)
    dutch, english = _page(app, town), _page(app, town, "en")
    assert "Er is nog geen ondertekend controlepunt van het grootboek." in dutch
    assert "There is no signed checkpoint of the ledger yet." in english
    for html in (dutch, english):
        assert "€ 120,00" not in html and "€120.00" not in html
        assert "Budget toegekend" not in html and "Budget issued" not in html


def test_payments_after_the_checkpoint_show_from_the_next_one(
    app: Flask, engine: Engine, cli: Any
) -> None:
    town = make_town(engine, 12)
    assert cli("ledger", "checkpoint").exit_code == 0
    first = _page(app, town)
    assert "€ 120,00" in first  # 12 households paid 10 euro
    _pay_everyone_again(engine, town, 500)

    later = _page(app, town)
    assert "€ 120,00" in later and "€ 180,00" not in later
    size = next(iter(_kept(engine, town)))
    assert f"de eerste {size} boekingen van het grootboek" in later

    assert cli("ledger", "checkpoint").exit_code == 0
    signed_again = _page(app, town)
    assert "€ 180,00" in signed_again
    assert set(_kept(engine, town)) == {size + 12}  # the older checkpoint's row is dropped
    with Session(engine) as s:  # and the next fold goes on from this one
        assert list(s.execute(select(PublicTally.size)).scalars()) == [size + 12]


def test_command_recomputes_the_page_from_an_export_at_its_checkpoint(
    app: Flask, engine: Engine, cli: Any, tmp_path: Path
) -> None:
    town = make_town(engine, 12)
    assert cli("ledger", "checkpoint").exit_code == 0
    page = _page(app, town)
    _pay_everyone_again(engine, town, 250)  # after the checkpoint: in the export, not signed
    export, register = tmp_path / "export", tmp_path / "register.json"
    assert cli("ledger", "export", str(export)).exit_code == 0
    assert cli("ledger", "public-register", str(register)).exit_code == 0

    (size, shown), *_ = _kept(engine, town).items()
    recomputed = _cli_figures(cli, "--from", str(export), "--register", str(register))
    assert recomputed[str(town.fund_id)] == shown
    assert shown["paid_cents"] == 12_000 and shown["households_paid"] == 12
    assert [c["label"] for c in shown["categories"]] == ["sports"]
    assert "€ 120,00" in page and "Sport" in page

    # Without the register: the same money, and no word about households or categories.
    bare = _cli_figures(cli, "--from", str(export), "--at", str(size))[str(town.fund_id)]
    assert {k: bare[k] for k in ("issued_cents", "paid_cents", "size")} == {
        k: shown[k] for k in ("issued_cents", "paid_cents", "size")
    }
    assert bare["households"] is None and bare["categories"] is None

    # The next checkpoint: page and command move together.
    assert cli("ledger", "checkpoint").exit_code == 0
    assert "€ 150,00" in _page(app, town)
    assert cli("ledger", "export", str(export)).exit_code == 0
    newer = _cli_figures(cli, "--from", str(export), "--register", str(register))
    assert newer[str(town.fund_id)] == _kept(engine, town)[size + 12]
    older = _cli_figures(cli, "--from", str(export), "--at", str(size), "--register", str(register))
    assert older[str(town.fund_id)] == shown


def test_command_refuses_a_tampered_export_and_a_size_that_is_no_checkpoint(
    app: Flask, engine: Engine, cli: Any, tmp_path: Path
) -> None:
    make_town(engine, 2)
    assert cli("ledger", "checkpoint").exit_code == 0
    export = tmp_path / "export"
    assert cli("ledger", "export", str(export)).exit_code == 0
    wrong = cli("ledger", "public-figures", "--from", str(export), "--at", "3")
    assert wrong.exit_code == 1 and "no checkpoint of size 3" in wrong.output

    entries = export / "entries.ndjson"
    entries.write_bytes(entries.read_bytes().replace(b'",-1000]', b'",-100]', 1))
    tampered = cli("ledger", "public-figures", "--from", str(export))
    assert tampered.exit_code == 1
    assert "the export does not verify" in tampered.output
    assert "spent" not in tampered.output


def test_the_page_withholds_figures_when_the_stored_entries_are_not_the_signed_ones(
    app: Flask, engine: Engine, cli: Any
) -> None:
    town = make_town(engine, 12)
    assert cli("ledger", "checkpoint").exit_code == 0
    with Session(engine) as s:
        drop_guards(s)
        newest = text("SELECT seq, body FROM ledger_entries ORDER BY seq DESC LIMIT 1")
        last, body = s.execute(newest).one()
        s.execute(
            text("UPDATE ledger_entries SET body = :b WHERE seq = :s"),
            {"b": bytes(body).replace(b",1000]", b",9000]"), "s": last},
        )
        s.commit()
    answer = app.test_client().get(f"/open/{town.slug}/spending/{town.fund_id}")
    assert answer.status_code == 500
    assert "komt niet overeen met zijn ondertekende controlepunt" in answer.get_data(as_text=True)
    assert _kept(engine, town) == {}


def test_kept_figures_are_read_again_not_recomputed(app: Flask, engine: Engine, cli: Any) -> None:
    town = make_town(engine, 12)
    assert cli("ledger", "checkpoint").exit_code == 0
    assert '<th scope="row">Sport</th>' in _page(app, town)
    with Session(engine) as s:  # the register changes after the figures were computed
        s.execute(update(Shop).values(category="books_school"))
        s.commit()
    html = _page(app, town)
    assert '<th scope="row">Sport</th>' in html  # as computed at this checkpoint
    assert "Boeken en schoolspullen" not in html


def test_figures_at_the_checkpoint_match_the_municipality_report(
    session: Session, app: Flask
) -> None:
    world = seed(session, families=12)
    generate(session, world, payments=60, refund_every=4)
    session.flush()
    with app.app_context():
        from kindpakket.ledger_api import checkpoint_signer

        cp = proofs.make_checkpoint(session, checkpoint_signer(), app.config["LEDGER_ORIGIN"])
    every = checkpointfigures.compute(session, cp).figures
    start, end = reports.default_period(world.fund)
    report = reports.fund_report(session, world.fund, start, end)

    fig = every[world.fund.id]
    assert fig.issued_cents == report.issued_cents > 0
    assert fig.paid_cents == report.paid_cents > 0
    assert fig.refunded_cents == report.refunded_cents > 0
    assert fig.left_cents == report.remaining_cents
    assert fig.households_paid == report.households_paid
    weeks = {g.label: (g.paid_cents, g.refunded_cents) for g in report.weeks}
    assert [c.label for c in fig.weeks] == list(weeks)
    shown = {c.label: (c.paid_cents, c.refunded_cents) for c in fig.weeks if not c.suppressed}
    assert shown and shown.items() <= weeks.items()
    assert every[world.other_fund.id].issued_cents == 0  # no budgets issued there


def test_a_fold_kept_and_taken_up_again_gives_the_figures_of_one_fold(session: Session) -> None:
    world = seed(session, families=14)
    generate(session, world, payments=80, refund_every=3)
    session.flush()
    lines = list(entry_bytes(session, proofs.tree_size(session)))
    found = checkpointfigures.register(session)
    whole = Tally(found).add_all(lines)
    half = len(lines) // 2
    kept = json.loads(json.dumps(Tally(found).add_all(lines[:half]).state()))
    resumed = Tally.from_state(kept, found).add_all(lines[half:])
    assert resumed.figures(world.fund.id) == whole.figures(world.fund.id)
    assert whole.figures(world.fund.id).payments == 80


def test_a_category_of_many_small_shops_is_shown_when_ten_households_paid_in_it(
    session: Session,
) -> None:
    world = seed(session, families=14)
    generate(session, world, payments=21, refund_every=3)
    session.flush()
    found = checkpointfigures.register(session)
    lines = list(entry_bytes(session, proofs.tree_size(session)))
    apart = Tally(found).add_all(lines).figures(world.fund.id)
    assert apart.categories is not None and all(c.suppressed for c in apart.categories)
    one_kind = Register(dict.fromkeys(found.shop_categories, "sports"), found.voucher_households)
    together = Tally(one_kind).add_all(lines).figures(world.fund.id)
    assert together.households_paid is not None and together.households_paid >= 10
    assert together.categories == (Cell("sports", together.paid_cents, together.refunded_cents),)
