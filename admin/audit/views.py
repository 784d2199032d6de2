"""Audit log pages (``/admin/audit``): filter by name, actor and date; export as CSV."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from admin import auth
from admin.audit import auditlog
from admin.audit.forms import FilterForm
from admin.reports import exports
from kindpakket.auth import require_role
from kindpakket.db import db
from kindpakket.time import format_moment

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit", template_folder="../templates")


def _filters() -> tuple[FilterForm, auditlog.Filters]:
    form = FilterForm(request.args)
    tenant = auth.me().municipality_id
    form.name.choices = [SelectChoice("", str(_l("Everything")))] + [
        SelectChoice(n, f"{auditlog.event_label(n)} ({n})")
        for n in auditlog.names(db.session, tenant)
    ]
    if not form.validate():
        return form, auditlog.Filters()
    return form, auditlog.Filters(
        name=form.name.data or "",
        actor=form.actor.data or "",
        start=form.start.data,
        end=form.end.data,
    )


@bp.get("/")
@require_role(*auth.ADMINISTRATOR)
def index():  # type: ignore[no-untyped-def]
    """Show the municipality's audit events, newest first."""
    form, filters = _filters()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    events, total = auditlog.events(db.session, auth.me().municipality_id, filters, page=page)
    query: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/audit/index.html",
        form=form,
        events=events,
        total=total,
        page=page,
        pages=max(1, -(-total // auditlog.PAGE)),
        query=query,
        as_json=auditlog.as_json,
        local_time=lambda at: format_moment(at, pattern="yyyy-MM-dd HH:mm:ss"),
        event_label=auditlog.event_label,
        actor_label=auditlog.actor_label,
        subject_label=auditlog.subject_label,
    )


@bp.get("/export.csv")
@require_role(*auth.ADMINISTRATOR)
def export():  # type: ignore[no-untyped-def]
    """Download the filtered audit log as CSV."""
    _, filters = _filters()
    table = auditlog.table(db.session, auth.me().municipality_id, filters)
    return Response(
        exports.csv_bytes([table]),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
