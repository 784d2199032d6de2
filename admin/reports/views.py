"""Report pages (``/admin/reports``): a dashboard per fund and period, CSV/XLSX exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l

from admin import auth
from admin.reports import charts, exports
from admin.reports import services as reports
from admin.reports.forms import PeriodForm
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.errors import DomainError
from kindpakket.i18n import current_language
from kindpakket.money import format_euro

bp = Blueprint(
    "admin_reports",
    __name__,
    url_prefix="/admin/reports",
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static",
)


def percent(permille: int) -> str:
    """Return tenths of a percent as "45,3 %" (Dutch) or "45.3%" (English)."""
    whole, tenth = divmod(permille, 10)
    return f"{whole},{tenth} %" if current_language() == "nl" else f"{whole}.{tenth}%"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "euro": lambda cents: format_euro(int(cents), current_language()),
        "percent": percent,
        "cell": cell,
        "numeric": lambda value: isinstance(value, int | exports.Cents | exports.Permille),
    }


def cell(value: Any) -> str:
    """Return a table cell as text in the page language."""
    if isinstance(value, exports.Cents):
        return format_euro(value.value, current_language())
    if isinstance(value, exports.Permille):
        return percent(value.value)
    return "" if value is None else str(value)


def _period(fund: Any) -> tuple[PeriodForm, date, date]:
    """Read the period from the query string, falling back to the fund's period."""
    form = PeriodForm(request.args)
    first, last = reports.default_period(fund)
    valid = form.validate()
    start = (form.start.data if valid else None) or first
    end = (form.end.data if valid else None) or last
    if end < start:
        raise DomainError("bad_period", _l("The end of the period lies before its start."))
    form.start.data, form.end.data = start, end
    return form, start, end


@bp.get("/")
@require_role(*auth.EVERYONE)
def index():  # type: ignore[no-untyped-def]
    """List the funds whose reports can be opened."""
    return render_template("admin/reports/index.html", funds=auth.tenant_funds(db.session))


def _charts(report: reports.FundReport) -> dict[str, charts.Chart]:
    """Render the dashboard's charts."""
    see = str(_l("The same figures are in the table beside this chart."))
    cats = report.categories
    shops = report.shops[:15]
    return {
        "weeks": charts.bar_chart(
            "weeks",
            str(_l("Spending per week")),
            [w.label for w in report.weeks],
            [w.net_cents for w in report.weeks],
            alt=see,
            lang=current_language(),
        ),
        "months": charts.bar_chart(
            "months",
            str(_l("Spending per month")),
            [m.label for m in report.months],
            [m.net_cents for m in report.months],
            alt=see,
            lang=current_language(),
        ),
        "categories": charts.bar_chart(
            "categories",
            str(_l("Spending per category")),
            [c.label for c in cats],
            [c.net_cents for c in cats],
            alt=see,
            horizontal=True,
            lang=current_language(),
        ),
        "shops": charts.bar_chart(
            "shops",
            str(_l("Spending per shop")),
            [s.name for s in shops],
            [s.net_cents for s in shops],
            alt=see,
            horizontal=True,
            lang=current_language(),
        ),
    }


@bp.get("/<int:fund_id>")
@require_role(*auth.EVERYONE)
def dashboard(fund_id: int):  # type: ignore[no-untyped-def]
    """Show a fund's figures, charts and tables for a period."""
    fund = auth.tenant_fund(db.session, fund_id)
    form, start, end = _period(fund)
    report = reports.fund_report(db.session, fund, start, end)
    tables = {t.key: t for t in reports.report_tables(report)}
    return render_template(
        "admin/reports/dashboard.html",
        fund=fund,
        form=form,
        report=report,
        tables=tables,
        charts=_charts(report),
        period={"from": start.isoformat(), "to": end.isoformat()},
    )


@bp.get("/<int:fund_id>/export")
@require_role(*auth.EVERYONE)
def export(fund_id: int):  # type: ignore[no-untyped-def]
    """Download one table (or all) of the report as CSV or XLSX."""
    fund = auth.tenant_fund(db.session, fund_id)
    _, start, end = _period(fund)
    key = request.args.get("table") or None
    fmt = request.args.get("format", "csv")
    if (key is not None and key not in reports.TABLE_KEYS) or fmt not in ("csv", "xlsx"):
        raise DomainError("bad_export", _l("Unknown table or format."))
    report = reports.fund_report(db.session, fund, start, end)
    tables = [t for t in reports.report_tables(report) if key in (None, t.key)]
    name = f"kindpakket-{fund.id}-{key or 'rapport'}-{start.isoformat()}-{end.isoformat()}"
    if fmt == "csv":
        body, mime = exports.csv_bytes(tables), "text/csv; charset=utf-8"
    else:
        body = exports.xlsx_bytes(tables)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )
