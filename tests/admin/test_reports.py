"""Reports: every total equals a direct sum over the ledger; exports open in Dutch Excel."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from admin.funds import closing
from admin.models import ReportDay, ReportVoucherDay
from admin.reports import exports, rollup
from admin.reports import services as reports
from admin.reports.services import local_day
from admin.settlement import services as settlement
from kindpakket.money import format_euro as reports_euro
from ledger import store
from ledger.models import LedgerEntry
from merchant.models import payable_account
from tests.admin import workload as w

rapp = w.rapp  # fixture
rcli = w.rcli  # fixture


def _ledger_sums(session: Session, fund_id: int) -> dict[str, int]:
    """Add up the fund's entries by decoding every hashed body (no report code involved)."""
    sums = {"redemption": 0, "refund": 0, "issue": 0, "expiry": 0, "payments": 0}
    size = store.head(session)[0]
    for seq in range(1, size + 1):
        e = store.get_entry(session, seq)
        assert e is not None
        if e.meta.get("fund") != fund_id:
            continue
        legs = {p.account: p.amount for p in e.postings}
        if e.kind == "redemption":
            sums["redemption"] += max(legs.values())
            sums["payments"] += 1
        elif e.kind == "refund":
            sums["refund"] += max(legs.values())
        elif e.kind == "voucher.issue":
            sums["issue"] += legs[f"voucher:{e.meta['voucher']}"]
        elif e.kind == "voucher.expiry":
            sums["expiry"] += legs[f"fund:{fund_id}"]
    return sums


def test_report_totals_equal_ledger_sums(session: Session) -> None:
    world = w.seed(session)
    w.generate(session, world, payments=80)
    # Noise in another municipality's fund must not leak in.
    other_voucher = w.f.family(session, world.other_fund, reference="X-1")[1][0]
    w.pay(session, world.other_fund, world.other_shop, other_voucher, 777)
    session.commit()

    fund = world.fund
    report = reports.fund_report(session, fund, fund.period_start, reports.today())
    sums = _ledger_sums(session, fund.id)
    assert report.paid_cents == sums["redemption"] > 0
    assert report.refunded_cents == sums["refund"] > 0
    assert report.issued_cents == sums["issue"] == 6 * 30_000
    assert report.payments == sums["payments"] == 80
    assert report.spent_cents == sums["redemption"] - sums["refund"]
    vouchers = [v.account for v in world.vouchers]
    assert report.remaining_cents == sum(store.balances(session, vouchers).values())
    assert sum(s.net_cents for s in report.shops) == report.spent_cents
    assert sum(c.net_cents for c in report.categories) == report.spent_cents
    assert sum(x.net_cents for x in report.weeks) == report.spent_cents
    assert sum(x.payments for x in report.months) == report.payments
    assert {s.name for s in report.shops} <= {name for name, _, _ in w.SHOPS}
    assert report.children == 6 and report.households == 3
    assert 0 < report.children_paid <= 5  # the last voucher is never used
    assert report.households_paid <= 3
    assert report.average_payment_cents == round(report.paid_cents / report.payments)
    top = report.top_shops()
    assert [s.payments for s in top] == sorted((s.payments for s in top), reverse=True)

    # Per shop, against the Redemption rows' own amounts (a second, independent source).
    for line in report.shops:
        rows = [r for r in world.redemptions if r.shop_id == line.shop_id]
        assert line.paid_cents == sum(r.amount_cents for r in rows)
        assert line.refunded_cents == sum(r.refunded_cents for r in rows)


def test_period_cuts_on_dutch_days(session: Session) -> None:
    world = w.seed(session)
    day = reports.today()  # the budgets were issued today too
    inside = datetime(day.year, day.month, day.day, 0, 30, tzinfo=reports.ZONE)
    before = inside - timedelta(hours=1)  # 23:30 the evening before, Dutch time
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 500, at=inside)
    w.pay(session, world.fund, world.shops[0], world.vouchers[1], 300, at=before)
    session.commit()
    one_day = reports.fund_report(session, world.fund, day, day)
    assert (one_day.payments, one_day.paid_cents) == (1, 500)
    assert one_day.children_paid == 1
    assert one_day.weeks[0].label == f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}"
    # Remaining counts everything up to the end of the day, also what came before it.
    assert one_day.remaining_cents == 6 * 30_000 - 800
    assert local_day(before) == day - timedelta(days=1)


def test_expired_budgets_show_after_closing(session: Session) -> None:
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[1], world.vouchers[0], 10_000)
    closing.close_fund(session, world.fund, actor="test")
    session.commit()
    report = reports.fund_report(session, world.fund, world.fund.period_start, reports.today())
    assert report.expired_cents == 6 * 30_000 - 10_000
    assert report.remaining_cents == 0


def test_csv_is_semicolon_bom_and_decimal_comma() -> None:
    table = exports.Table(
        "t",
        "T",
        ["Winkel", "Bedrag", "Aandeel"],
        [
            ["Café Brûlé; & Co", exports.Cents(123456), exports.Permille(453)],
            ["Min", exports.Cents(-5), exports.Permille(0)],
        ],
    )
    data = exports.csv_bytes([table])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8")), delimiter=";"))
    assert rows == [
        ["Winkel", "Bedrag", "Aandeel"],
        ["Café Brûlé; & Co", "1234,56", "45,3%"],
        ["Min", "-0,05", "0,0%"],
    ]


def test_xlsx_has_one_sheet_per_table(session: Session) -> None:
    world = w.seed(session)
    w.generate(session, world, payments=10)
    session.commit()
    report = reports.fund_report(session, world.fund, world.fund.period_start, reports.today())
    data = exports.xlsx_bytes(reports.report_tables(report))
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(reports.TABLE_KEYS)
        workbook = book.read("xl/workbook.xml").decode()
    for key in reports.TABLE_KEYS:
        assert f'name="{key}"' in workbook


def test_report_of_an_empty_period(session: Session) -> None:
    world = w.seed(session)
    session.commit()
    start = date(2001, 1, 1)
    report = reports.fund_report(session, world.fund, start, start)
    assert (report.payments, report.paid_cents, report.average_payment_cents) == (0, 0, 0)
    assert report.issued_cents == 0 and report.remaining_cents == 0
    assert report.children_uptake_permille == 0


def test_entries_are_stamped_in_utc(session: Session) -> None:
    world = w.seed(session)
    at = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 100, at=at)
    session.commit()
    stored = session.execute(
        select(LedgerEntry.created_at).order_by(LedgerEntry.seq.desc())
    ).scalar()
    assert local_day(stored) == date(2026, 1, 6)  # 00:30 in Amsterdam


def test_dashboard_page_and_exports(rapp, engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        w.generate(s, world, payments=20)
        s.commit()
        report = reports.fund_report(s, world.fund, world.fund.period_start, reports.today())
    viewer = w.login(rapp.test_client(), "lezer@voorbeeld.example")
    page = viewer.get(f"/admin/reports/{world.fund.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert reports_euro(report.spent_cents) in html
    assert "<script" not in html.split("<main", 1)[1]
    csv_file = viewer.get(f"/admin/reports/{world.fund.id}/export?table=shops&format=csv")
    assert csv_file.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_file.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(csv_file.data[3:].decode()), delimiter=";"))
    assert len(rows) == 1 + len(report.shops)
    xlsx = viewer.get(f"/admin/reports/{world.fund.id}/export?format=xlsx")
    assert xlsx.data[:2] == b"PK"
    bad = viewer.get(f"/admin/reports/{world.fund.id}?from=2026-05-01&to=2026-04-01")
    assert bad.status_code == 400 and "bad_period" in bad.get_data(as_text=True)
    assert viewer.get(f"/admin/reports/{world.fund.id}/export?table=nope").status_code == 404
    assert viewer.get(f"/admin/settlement/{world.fund.id}").status_code == 403


def test_cli_report_csv_and_xlsx(session: Session, rcli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = w.seed(session)
    w.pay(session, world.fund, world.shops[0], world.vouchers[0], 1_250)
    session.commit()
    today = reports.today().isoformat()
    out = rcli("report", str(world.fund.id), "--from", today, "--to", today, "--table", "shops")
    assert out.exit_code == 0, out.output
    assert "Fietsenwinkel De Spaak;Fietsen;1;12,50;0,00;12,50" in out.output
    target = tmp_path / "r.xlsx"
    made = rcli("report", str(world.fund.id), "--format", "xlsx", "-o", str(target))
    assert made.exit_code == 0 and target.read_bytes()[:2] == b"PK"
    assert rcli("report", "999").exit_code == 2


def test_sql_dutch_day_matches_python_around_summer_time(session: Session) -> None:
    store.open_account(session, "bank:900")
    store.open_account(session, "fund:900")
    moments = [
        datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # winter: 23:59 on the 28th
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # winter: midnight, the 29th
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 01:59 winter time
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 summer time
        datetime(2026, 7, 1, 21, 59, 59, tzinfo=UTC),  # summer: 23:59:59 on 1 July
        datetime(2026, 7, 1, 22, 0, tzinfo=UTC),  # summer: midnight, 2 July
        datetime(2026, 10, 25, 0, 59, tzinfo=UTC),  # 02:59 summer time
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # 02:00 winter time
        datetime(2026, 10, 25, 22, 30, tzinfo=UTC),  # winter: 23:30 on the 25th
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # New Year's night
    ]
    seqs = [
        store.append(session, "fund.deposit", [("bank:900", -1), ("fund:900", 1)], at=m).seq
        for m in moments
    ]
    day = rollup.dutch_day(session)
    rows = session.execute(select(LedgerEntry.seq, day).where(LedgerEntry.seq.in_(seqs)))
    found = {int(seq): value for seq, value in rows}
    assert [reports._as_date(found[s]) for s in seqs] == [local_day(m) for m in moments]
    assert local_day(moments[5]) == date(2026, 7, 2)


def test_rollup_and_ledger_tail_give_the_same_report(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    world = w.seed(session)
    w.generate(session, world, payments=30)
    session.commit()
    fund = world.fund
    first = reports.fund_report(session, fund, fund.period_start, reports.today())
    assert rollup.watermark(session) == store.head(session)[0]
    assert session.execute(select(func.count()).select_from(ReportDay)).scalar_one() > 0
    assert session.execute(select(func.count()).select_from(ReportVoucherDay)).scalar_one() > 0
    session.commit()

    # More payments and a refund after the watermark: reports without a refresh still add them.
    w.generate(session, world, payments=12, seed_value=8)
    session.commit()
    monkeypatch.setattr(rollup, "try_refresh", lambda _session: None)
    stale = reports.fund_report(session, fund, fund.period_start, reports.today())
    assert rollup.watermark(session) < store.head(session)[0]
    sums = _ledger_sums(session, fund.id)
    assert stale.payments == sums["payments"] == first.payments + 12
    assert stale.paid_cents == sums["redemption"]
    assert stale.refunded_cents == sums["refund"]
    owed = {o.shop_id: o.cents for o in settlement.owed(session, fund, reports.today())}
    for shop in world.shops:
        assert owed.get(shop.id, 0) == store.balance(session, payable_account(shop.id, fund.id))

    monkeypatch.undo()
    fresh = reports.fund_report(session, fund, fund.period_start, reports.today())
    assert rollup.watermark(session) == store.head(session)[0]
    assert fresh == stale
    assert rollup.refresh(session) == store.head(session)[0]  # nothing new: no change
    assert reports.fund_report(session, fund, fund.period_start, reports.today()) == fresh


def test_fresh_rollup_reads_no_ledger_postings(session: Session) -> None:
    world = w.seed(session)
    w.generate(session, world, payments=10)
    session.commit()
    fund = world.fund
    rollup.refresh(session)
    session.commit()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        report = reports.fund_report(session, fund, fund.period_start, reports.today())
        owed = settlement.owed(session, fund, reports.today())
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements and not [s for s in statements if "ledger_postings" in s]
    sums = _ledger_sums(session, fund.id)
    assert report.payments == sums["payments"] and report.paid_cents == sums["redemption"]
    by_shop = {o.shop_id: o.cents for o in owed}
    for shop in world.shops:
        assert by_shop.get(shop.id, 0) == store.balance(session, payable_account(shop.id, fund.id))
