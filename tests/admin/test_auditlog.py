"""The audit log page: administrators only, own municipality only, filters, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from kindpakket.audit import record_event
from tests.admin import workload as w

rapp = w.rapp  # fixture


def _seed(engine: Engine) -> w.World:
    with Session(engine, expire_on_commit=False) as s:
        world = w.seed(s)
        m, other = world.municipality.id, world.other_fund.municipality_id
        record_event(
            s,
            "fund.created",
            actor="admin:1",
            subject="fund:1",
            tenant_id=m,
            after={"name": "Kindpakket 2026"},
        )
        record_event(
            s,
            "settlement.created",
            actor="admin:2",
            subject="settlement_batch:1",
            tenant_id=m,
            after={"total_cents": 1250},
        )
        record_event(
            s,
            "settlement.confirmed",
            actor="admin:2",
            subject="settlement_batch:1",
            tenant_id=m,
            before={"status": "exported"},
            after={"status": "confirmed"},
        )
        record_event(
            s,
            "fund.created",
            actor="admin:9",
            subject="fund:2",
            tenant_id=other,
            after={"name": "Geheim fonds elders"},
        )
        s.commit()
        return world


def test_audit_page_filters_and_exports_own_events(rapp: Flask, engine: Engine) -> None:
    _seed(engine)
    client = w.login(rapp.test_client())
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "settlement.confirmed" in page and "fund.created" in page
    assert "Geheim fonds elders" not in page  # another municipality's event
    only = client.get("/admin/audit/?name=settlement.&actor=admin:2").get_data(as_text=True)
    assert "settlement.created" in only and "Kindpakket 2026" not in only
    assert "2 " in only  # "2 gebeurtenissen gevonden"
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert (
        "settlement"
        not in client.get(f"/admin/audit/?from={tomorrow}")
        .get_data(as_text=True)
        .split("<tbody>")[1]
    )

    export = client.get("/admin/audit/export.csv?name=settlement.confirmed")
    assert export.status_code == 200 and export.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.data[3:].decode()), delimiter=";"))
    assert len(rows) == 2 and rows[1][5] == "settlement.confirmed"
    assert rows[1][2] == "Medewerker gemeente 2"
    assert rows[1][4] == "Uitbetaling bevestigd als betaald"
    assert rows[1][7] == '{"status": "exported"}' and rows[1][8] == '{"status": "confirmed"}'


def test_only_administrators_see_the_audit_log(rapp: Flask, engine: Engine) -> None:
    _seed(engine)
    for email in ("financien@voorbeeld.example", "lezer@voorbeeld.example"):
        client = w.login(rapp.test_client(), email)
        assert client.get("/admin/audit/").status_code == 403
        assert client.get("/admin/audit/export.csv").status_code == 403


def test_audit_events_cannot_be_changed(engine: Engine) -> None:
    _seed(engine)
    with Session(engine) as s:
        for sql in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            try:
                s.execute(text(sql))
            except Exception:
                s.rollback()
            else:
                raise AssertionError(f"{sql} was allowed")
