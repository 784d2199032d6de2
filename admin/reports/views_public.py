"""Public pages per municipality (no login): accessibility, privacy, where to spend, spending."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from admin.funds import letters as letter_pdf
from admin.reports import checkpointfigures, privacy, publicfigures
from admin.reports.views import percent
from kindpakket import time as clock
from kindpakket.db import db, writing
from kindpakket.i18n import current_language
from kindpakket.money import format_euro
from ledger import proofs
from merchant import hours
from merchant.models import Shop, ShopApproval
from merchant.services import CATEGORIES, weeks_of
from wallet.models import Fund, Municipality

bp = Blueprint("public_pages", __name__, url_prefix="/open", template_folder="../templates")
AUDITED = "2026-11-23"  # the day tests/browser/test_accessibility.py last covered these pages


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_language()
    return {
        "euro": lambda cents: format_euro(int(cents), lang),
        "day": lambda d: letter_pdf.format_date(d, lang),
        "category_label": lambda key: CATEGORIES.get(key, key),
        "percent": percent,
    }


def _municipality(slug: str) -> Municipality:
    found = db.session.execute(
        select(Municipality).where(Municipality.slug == slug)
    ).scalar_one_or_none()
    if found is None:
        abort(404)
    return found


def _funds(municipality: Municipality) -> list[Fund]:
    return list(
        db.session.execute(
            select(Fund)
            .where(Fund.municipality_id == municipality.id)
            .order_by(Fund.period_start.desc(), Fund.id.desc())
        ).scalars()
    )


@bp.get("/<any(accessibility, privacy, shops, spending):page>")
def pick(page: str):  # type: ignore[no-untyped-def]
    """Go to the page of the only municipality, or let the visitor choose one."""
    towns = list(db.session.execute(select(Municipality).order_by(Municipality.name)).scalars())
    if len(towns) == 1:
        endpoint = "privacy_statement" if page == "privacy" else page
        return redirect(url_for(f".{endpoint}", slug=towns[0].slug))
    return render_template("public/pick.html", towns=towns, page=page)


@bp.get("/<slug>/accessibility")
def accessibility(slug: str):  # type: ignore[no-untyped-def]
    """The accessibility statement, after the Dutch government's model statement."""
    return render_template("public/accessibility.html", town=_municipality(slug), audited=AUDITED)


@bp.get("/<slug>/privacy")
def privacy_statement(slug: str):  # type: ignore[no-untyped-def]
    """What this installation stores about whom, why, and for how long."""
    return render_template(
        "public/privacy.html", town=_municipality(slug), records=privacy.records()
    )


@bp.get("/<slug>/shops")
def shops(slug: str):  # type: ignore[no-untyped-def]
    """Where to spend: approved shops per fund with category, address and opening hours."""
    town = _municipality(slug)
    query = request.args.get("q", "").strip()[:80]
    wanted = request.args.get("category", "")
    open_only = request.args.get("open") == "1"
    now = clock.now()  # "open now" is read on Amsterdam's clock, in merchant.hours
    per_fund = [(fund, _approved_shops(fund)) for fund in _funds(town) if fund.status == "open"]
    weeks = weeks_of(db.session, {s.id: s for _, rows in per_fund for s in rows}.values())
    states = {shop_id: hours.state(week, now) for shop_id, week in weeks.items()}

    def wanted_shop(shop: Shop) -> bool:
        return (
            _matches(shop, query)
            and (not wanted or shop.category == wanted)
            and (not open_only or states[shop.id].open)
        )

    listing = [(fund, [s for s in rows if wanted_shop(s)]) for fund, rows in per_fund]
    return render_template(
        "public/shops.html",
        town=town,
        listing=listing,
        query=query,
        wanted=wanted,
        open_only=open_only,
        categories=CATEGORIES,
        weeks=weeks,
        states=states,
        here=clock.local(now),
    )


def _approved_shops(fund: Fund) -> list[Shop]:
    """Return the shops approved for a fund and not suspended, by name."""
    return list(
        db.session.execute(
            select(Shop)
            .join(ShopApproval, ShopApproval.shop_id == Shop.id)
            .where(ShopApproval.fund_id == fund.id, ShopApproval.status == "approved")
            .where(Shop.status != "suspended")
            .order_by(Shop.name)
        ).scalars()
    )


def _matches(shop: Shop, query: str) -> bool:
    if not query:
        return True
    text = " ".join(
        (shop.name, shop.address, shop.postcode, shop.city, str(CATEGORIES.get(shop.category, "")))
    )
    return query.casefold() in text.casefold()


@bp.get("/<slug>/spending")
def spending(slug: str):  # type: ignore[no-untyped-def]
    """The funds of the municipality, each with its public spending figures."""
    town = _municipality(slug)
    funds = _funds(town)
    if len(funds) == 1:
        return redirect(url_for(".fund_spending", slug=slug, fund_id=funds[0].id))
    return render_template("public/spending_index.html", town=town, funds=funds)


@bp.get("/<slug>/spending/<int:fund_id>")
def fund_spending(slug: str, fund_id: int):  # type: ignore[no-untyped-def]
    """Show a fund's figures at the latest signed checkpoint (small cells hidden)."""
    town = _municipality(slug)
    fund = db.session.get(Fund, fund_id)
    if fund is None or fund.municipality_id != town.id:
        abort(404)
    cp = proofs.latest_checkpoint(db.session)
    if cp is None:
        return render_template("public/spending.html", town=town, fund=fund, fig=None)
    kept = checkpointfigures.cached(db.session, fund.id, cp.size)
    if kept is None:
        computed = checkpointfigures.compute(db.session, cp)
        _keep(computed)
        kept = (computed.figures[fund.id], clock.now())
    fig, computed_at = kept
    return render_template(
        "public/spending.html",
        town=town,
        fund=fund,
        fig=fig,
        computed_at=computed_at,
        signed=checkpointfigures.signed(db.session, cp),
        minimum=publicfigures.MIN_HOUSEHOLDS,
        known_categories=CATEGORIES,
    )


def _keep(computed: checkpointfigures.Computed) -> None:
    """Keep computed figures in a short write transaction of their own (this GET only reads).

    When SQLite's write lock stays taken too long, nothing is kept and the next view
    computes again: a cache, never the only copy of anything.
    """
    try:
        with writing(), db.transaction() as side:
            checkpointfigures.keep(side, computed)
    except (OperationalError, IntegrityError):
        pass
