"""Opening hours through the pages and the API, on both engines: who may change them, what a
refusal says, and where families and the municipality see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kindpakket import time as clock
from kindpakket.audit import AuditEvent
from merchant.models import Shop, ShopHours
from tests import factories as fx
from tests.admin.workload import login as staff_login
from tests.merchant.conftest import APPLICATION, World, login

MONDAY_TEN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam (CET)
MONDAY_NIGHT = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)  # Monday 23:00 in Amsterdam


def hours_form(**changes: str) -> dict[str, str]:
    """Return the hours form: Monday to Friday with a lunch break, Saturday short, and a note."""
    form = {"hours_note": "Gesloten op feestdagen"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        form |= {
            f"{day}_1_opens": "09:00",
            f"{day}_1_closes": "12:30",
            f"{day}_2_opens": "13:30",
            f"{day}_2_closes": "17:30",
        }
    form |= {"saturday_1_opens": "10:00", "saturday_1_closes": "16:00"}
    return form | changes


def stored(session: Session, shop_id: int) -> list[tuple[int, int, int]]:
    session.rollback()  # end the read, to see what the app committed since
    rows = session.execute(
        select(ShopHours.weekday, ShopHours.opens_minute, ShopHours.closes_minute)
        .where(ShopHours.shop_id == shop_id)
        .order_by(ShopHours.weekday, ShopHours.opens_minute)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def public(client: Any, query: str = "") -> str:
    return str(client.get(f"/open/voorbeeld/shops{query}").get_data(as_text=True))


def test_the_owner_enters_hours_and_families_see_them(
    client: Any, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, world.owner.email)
    page = client.get("/merchant/hours").get_data(as_text=True)
    assert "<legend>Maandag</legend>" in page and "<legend>Zondag</legend>" in page
    assert '<label for="monday_1_opens">Opent</label>' in page
    assert '<label for="monday_2_closes">Sluit weer</label>' in page

    answer = client.post("/merchant/hours", data=hours_form())
    assert answer.status_code == 302 and answer.location.endswith("/merchant/#hours")
    assert (0, 540, 750) in stored(session, world.shop.id)
    assert len(stored(session, world.shop.id)) == 11  # 5 days x 2 + Saturday
    mine = client.get("/merchant/").get_data(as_text=True)
    assert "De openingstijden zijn opgeslagen." in mine and "09:00–12:30" in mine

    again = client.get("/merchant/hours").get_data(as_text=True)  # the form shows what is stored
    assert 'id="friday_2_closes" maxlength="5" name="friday_2_closes"' in again
    assert 'value="17:30"' in again and 'value="Gesloten op feestdagen"' in again

    monkeypatch.setattr(clock, "now", lambda: MONDAY_TEN)
    html = public(client)
    spaak = html.split("Fietsenwinkel De Spaak", 1)[1].split("</li>", 1)[0]
    assert "Nu open</strong>, tot 12:30" in spaak
    assert '<th scope="row">Zaterdag</th>' in spaak and "10:00–16:00" in spaak
    assert "Gesloten op feestdagen" in spaak and "Gesloten</td>" in spaak  # Sunday
    assert 'class="today" aria-current="date"><th scope="row">Maandag' in spaak
    assert "“Nu open” betekent: op maandag om 10:00, Nederlandse tijd." in html
    lees = html.split("Boekhandel Lees", 1)[1].split("</li>", 1)[0]
    assert "Openingstijden niet opgegeven." in lees and "Nu open" not in lees

    monkeypatch.setattr(clock, "now", lambda: MONDAY_NIGHT)
    english = public(client, "?lang=en")
    assert "<strong>Closed now</strong>" in english
    assert "opens tomorrow at 09:00" in english and "Opening hours not given." in english
    assert '<th scope="row">Saturday</th>' in english


def test_open_now_and_the_search_narrow_the_list_with_a_clear_message(
    client: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, world.owner.email)
    assert client.post("/merchant/hours", data=hours_form()).status_code == 302
    monkeypatch.setattr(clock, "now", lambda: MONDAY_TEN)
    html = public(client, "?open=1")
    assert "Fietsenwinkel De Spaak" in html and "Boekhandel Lees" not in html  # no hours given
    assert 'name="open" value="1" checked' in html
    html = public(client, "?q=spaak&open=1")
    assert "Fietsenwinkel De Spaak" in html
    monkeypatch.setattr(clock, "now", lambda: MONDAY_NIGHT)
    html = public(client, "?q=spaak&open=1")
    assert "Fietsenwinkel De Spaak" not in html
    assert "Geen winkel gevonden voor “spaak”." in html and "zet “nu open” uit" in html
    html = public(client, "?q=bakker")
    assert "Probeer een ander woord of alle categorieën." in html and "uit." not in html
    html = public(client, "?q=lees")
    assert "Boekhandel Lees" in html and "Geen winkel gevonden" not in html


def test_refused_hours_name_each_day_and_store_nothing(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.owner.email)
    bad = hours_form(monday_1_closes="08:00", tuesday_2_opens="12:00", wednesday_1_opens="9u")
    answer = client.post("/merchant/hours", data=bad)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Controleer de openingstijden:" in html
    assert "Maandag: de sluitingstijd (08:00) moet na de openingstijd (09:00) liggen." in html
    assert "Dinsdag: de periodes 09:00-12:30 en 12:00-17:30 overlappen elkaar." in html
    assert "Woensdag: “9u” is geen tijd." in html
    assert 'href="#monday_1_opens"' in html and 'aria-describedby="monday-error"' in html
    assert 'value="9u"' in html  # what was typed stays to be corrected
    assert stored(session, world.shop.id) == []

    english = client.post("/merchant/hours?lang=en", data=hours_form(hours_note="x" * 201))
    assert english.status_code == 400
    assert "The note on opening hours has at most 200 characters (now 201)." in english.get_data(
        as_text=True
    )
    assert stored(session, world.shop.id) == []


def test_a_nul_byte_is_refused_before_the_page_sees_it(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.owner.email)
    answer = client.post("/merchant/hours", data=hours_form(hours_note="feestdagen\x00"))
    assert answer.status_code == 422
    assert stored(session, world.shop.id) == []
    assert session.get(Shop, world.shop.id).hours_note is None  # type: ignore[union-attr]


def test_only_the_owner_changes_hours(client: Any, session: Session, world: World) -> None:
    login(client, world.cashier.email)
    assert client.get("/merchant/hours").status_code == 403
    assert client.post("/merchant/hours", data=hours_form()).status_code == 403
    assert "Openingstijden wijzigen" not in client.get("/merchant/").get_data(as_text=True)
    api = client.put("/api/v1/merchant/hours", json={"monday": [{"opens": "9", "closes": "x"}]})
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "owner_only"
    assert stored(session, world.shop.id) == []


def test_the_change_is_audited_with_before_and_after(
    client: Any, session: Session, world: World
) -> None:
    login(client, world.owner.email)
    client.post("/merchant/hours", data=hours_form())
    client.post(
        "/merchant/hours", data=hours_form(monday_2_opens="", monday_2_closes="", hours_note="")
    )
    events = (
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.name == "shop.hours_changed")
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert [e.actor for e in events] == [f"shop_user:{world.owner.id}"] * 2
    assert events[0].before == {"hours": {}, "note": None}
    assert events[1].before["hours"]["monday"] == ["09:00-12:30", "13:30-17:30"]  # type: ignore[index]
    assert events[1].after == {
        "hours": events[0].after["hours"] | {"monday": ["09:00-12:30"]},  # type: ignore[index]
        "note": None,
    }
    assert events[1].subject == f"shop:{world.shop.id}"


def test_the_municipality_sees_the_hours_on_the_shop_page(
    app: Any, client: Any, session: Session, world: World
) -> None:
    login(client, world.owner.email)
    client.post("/merchant/hours", data=hours_form())
    fx.admin_user(session, world.fund.municipality)
    session.commit()
    admin = staff_login(app.test_client())
    html = admin.get(f"/admin/shops/{world.shop.id}").get_data(as_text=True)
    assert "<dt>Openingstijden</dt>" in html and "13:30–17:30" in html
    assert "Gesloten op feestdagen" in html
    other = admin.get(f"/admin/shops/{world.other_shop.id}").get_data(as_text=True)
    assert "Openingstijden niet opgegeven." in other


def test_hours_are_optional_on_the_application_and_checked_when_given(
    client: Any, session: Session, world: World
) -> None:
    page = client.get("/merchant/apply").get_data(as_text=True)
    assert "<summary>Openingstijden (niet verplicht" in page and "<legend>Zondag</legend>" in page
    bad = client.post("/merchant/apply", data=APPLICATION | {"sunday_1_opens": "12:00"})
    html = bad.get_data(as_text=True)
    assert (
        bad.status_code == 400
        and "Zondag: vul zowel de openingstijd als de sluitingstijd in." in html
    )
    assert '<details class="hours-details" open>' in html
    assert session.execute(select(func.count()).select_from(Shop)).scalar_one() == 2

    good = client.post(
        "/merchant/apply",
        data=APPLICATION | {"saturday_1_opens": "10:00", "saturday_1_closes": "17:00"},
    )
    assert good.status_code == 302
    session.rollback()
    shop = session.execute(select(Shop).where(Shop.kvk == "11223344")).scalar_one()
    assert stored(session, shop.id) == [(5, 600, 1020)]
    applied = session.execute(
        select(AuditEvent).where(AuditEvent.name == "shop.applied")
    ).scalar_one()
    assert applied.after["hours"] == {"saturday": ["10:00-17:00"]}  # type: ignore[index]

    without = client.post(
        "/merchant/apply", data=APPLICATION | {"kvk": "11223355", "owner_email": "b@ot.example"}
    )
    assert without.status_code == 302
    session.rollback()
    shop = session.execute(select(Shop).where(Shop.kvk == "11223355")).scalar_one()
    assert stored(session, shop.id) == [] and shop.hours_note is None


def test_the_api_reads_and_replaces_the_hours(client: Any, session: Session, world: World) -> None:
    login(client, world.owner.email)
    empty = client.get("/api/v1/merchant/hours").get_json()
    assert empty["given"] is False and empty["monday"] == [] and empty["note"] is None
    body = {
        "monday": [{"opens": "13:30", "closes": "17:30"}, {"opens": "9:00", "closes": "12:30"}],
        "sunday": [{"opens": "22:00", "closes": "24:00"}],
        "note": "Op afspraak",
    }
    answer = client.put("/api/v1/merchant/hours", json=body)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["monday"] == [
        {"opens": "09:00", "closes": "12:30"},
        {"opens": "13:30", "closes": "17:30"},
    ]
    assert client.get("/api/v1/merchant/hours").get_json() == answer.get_json()
    assert stored(session, world.shop.id) == [(0, 540, 750), (0, 810, 1050), (6, 1320, 1440)]

    three = [{"opens": f"{h:02d}:00", "closes": f"{h:02d}:30"} for h in (8, 10, 12)]
    refused = client.put(
        "/api/v1/merchant/hours?lang=en",
        json={"tuesday": three, "friday": [{"opens": "18:00", "closes": "17:00"}]},
    )
    error = refused.get_json()["error"]
    assert refused.status_code == 400 and error["code"] == "hours_too_many_periods"
    assert error["problems"] == {
        "tuesday": "hours_too_many_periods",
        "friday": "hours_end_before_start",
    }
    assert error["message"].startswith("Tuesday: give at most two periods")
    assert len(stored(session, world.shop.id)) == 3  # unchanged

    nul = client.put("/api/v1/merchant/hours", json={"note": "a\x00b"})
    assert nul.status_code == 422 and nul.get_json()["error"]["code"] == "invalid_text"
