"""Funds: the service, the ``fund`` commands and the admin pages (create, overview, import)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from admin.funds import services as funds
from admin.models import ImportRun
from kindpakket.audit import AuditEvent
from kindpakket.errors import DomainError
from ledger import store
from tests import factories as f
from tests.admin.conftest import FIRST_ROWS, World, csv_bytes, row
from wallet.models import Child, Fund, Household


def test_create_fund_records_deposit_and_settings(session: Session) -> None:
    m = f.municipality(session)
    fund = funds.create_fund(
        session,
        m,
        name="  Kindpakket   2027 ",
        start=date(2027, 1, 1),
        end=date(2027, 12, 31),
        budget_cents=30_000,
        deposit_cents=1_500_000,
        categories=["clothing, books_school", "sports", "clothing"],
        age_bands=[funds.parse_age_band("0-11:250,00"), funds.parse_age_band("12-17: 400")],
        pro_rata=True,
        actor="test",
    )
    assert fund.name == "Kindpakket 2027" and fund.reference_date == date(2027, 1, 1)
    assert fund.categories == ["clothing", "books_school", "sports"]
    assert fund.age_bands[1] == {"min_age": 12, "max_age": 17, "budget_cents": 40_000}
    assert store.balance(session, fund.account) == 1_500_000
    assert store.balance(session, fund.bank_account) == -1_500_000
    names = session.execute(select(AuditEvent.name).order_by(AuditEvent.id)).scalars().all()
    assert names == ["fund.created", "fund.deposited"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"end": date(2026, 12, 31)}, "bad_period"),
        ({"name": " "}, "bad_name"),
        ({"budget_cents": 0}, "amount_not_positive"),
        ({"categories": ["Kleding!"]}, "bad_category"),
        ({"categories": ["school"]}, "bad_category"),
        ({"categories": ["kleding"]}, "bad_category"),
        (
            {
                "age_bands": [
                    {"min_age": 0, "max_age": 12, "budget_cents": 1},
                    {"min_age": 12, "max_age": 17, "budget_cents": 1},
                ]
            },
            "bad_age_band",
        ),
    ],
)
def test_create_fund_refuses_bad_settings(session: Session, kwargs: dict, code: str) -> None:  # type: ignore[type-arg]
    m = f.municipality(session)
    values = {
        "name": "K",
        "start": date(2027, 1, 1),
        "end": date(2027, 12, 31),
        "budget_cents": 30_000,
        "actor": "test",
    } | kwargs
    with pytest.raises(DomainError) as caught:
        funds.create_fund(session, m, **values)
    assert caught.value.code == code


@pytest.mark.parametrize("text", ["0-11", "11-0:250", "a-b:1", "0-11:nul"])
def test_parse_age_band_refuses_bad_text(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        funds.parse_age_band(text)
    assert caught.value.code in {"bad_age_band", "invalid_amount"}


# --------------------------------------------------------------------------- commands


def test_fund_commands_create_list_deposit_topup_and_import(
    run_cli,
    engine: Engine,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    with Session(engine) as s:
        f.municipality(s, slug="wk")
        s.commit()
    made = run_cli(
        "fund",
        "create",
        "--municipality",
        "wk",
        "--name",
        "Kindpakket 2026",
        "--start",
        "01-01-2026",
        "--end",
        "2026-12-31",
        "--budget",
        "300,00",
        "--deposit",
        "1.000,00",
        "--age-band",
        "12-17:400,00",
        "--categories",
        "clothing",
    )
    assert made.exit_code == 0, made.output
    fund_id = made.output.split()[1]
    bad = run_cli(
        "fund",
        "create",
        "--municipality",
        "wk",
        "--name",
        "X",
        "--start",
        "2026-01-01",
        "--end",
        "2025-01-01",
        "--budget",
        "300",
    )
    assert bad.exit_code == 2 and "bad_period" in bad.output
    csv_file = tmp_path / "kinderen.csv"
    csv_file.write_bytes(csv_bytes([*FIRST_ROWS, row("H-3", "K-4", "Bram", "2016-01-01")]))
    short = run_cli("import-children", fund_id, str(csv_file))  # 4 x 300 > 1000
    assert short.exit_code == 1
    assert "het fonds bevat € 1.000,00" in short.output  # Dutch unless --lang en
    assert "the fund holds" not in short.output
    english = run_cli("import-children", fund_id, str(csv_file), "--lang", "en")
    assert "the fund holds € 1.000,00" in english.output
    assert run_cli("fund", "deposit", fund_id, "500").exit_code == 0
    dry = run_cli("import-children", fund_id, str(csv_file), "--dry-run", "--lang", "en")
    assert dry.exit_code == 0 and "dry run" in dry.output and "children: 4 (4 new" in dry.output
    done = run_cli("import-children", fund_id, str(csv_file))
    assert done.exit_code == 0, done.output
    assert "budget uitgegeven: € 1.200,00" in done.output and "kinderen: 4 (4 nieuw" in done.output
    topped = run_cli("fund", "topup", fund_id, "K-4", "25,50")
    assert topped.exit_code == 0, topped.output
    unknown = run_cli("fund", "topup", fund_id, "K-99", "1")
    assert unknown.exit_code == 2 and "unknown_child" in unknown.output
    listed = run_cli("fund", "list", "--municipality", "wk")
    assert "households=3 children=4 issued=€ 1.225,50 left=€ 274,50" in listed.output


def test_import_command_lists_errors_in_dutch_and_english(
    run_cli,
    world: World,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    csv_file = tmp_path / "fout.csv"
    csv_file.write_bytes(csv_bytes([row(), row(child="K-2", born="2016-02-30")]))
    result = run_cli("import-children", str(world.fund_id), str(csv_file))
    assert result.exit_code == 1
    assert (
        "regel 3, kolom geboortedatum: ongeldige datum (gebruik JJJJ-MM-DD of DD-MM-JJJJ)"
        in result.output
    )
    assert "1 fout(en), niets geïmporteerd" in result.output
    english = run_cli("import-children", str(world.fund_id), str(csv_file), "--lang", "en")
    assert "line 3, column birth_date: invalid date" in english.output
    assert "1 error(s), nothing imported" in english.output and "regel" not in english.output


# --------------------------------------------------------------------------- pages


def test_administrator_creates_a_fund_and_viewer_may_not(
    admin_client: FlaskClient, funds_app: Flask, engine: Engine
) -> None:
    form = {
        "name": "Kindpakket 2027",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "budget": "300,00",
        "deposit": "15.000,00",
        "age_bands": "0-11:250,00\n12-17:400,00",
        "categories": ["clothing", "books_school"],
        "pro_rata": "y",
    }
    page = admin_client.get("/admin/funds/new")
    assert page.status_code == 200 and 'for="budget"' in page.get_data(as_text=True)
    refused = admin_client.post("/admin/funds/new", data=form | {"budget": "drie"})
    assert refused.status_code == 400 and 'role="alert"' in refused.get_data(as_text=True)
    made = admin_client.post("/admin/funds/new", data=form)
    assert made.status_code == 302
    with Session(engine) as s:
        fund = s.execute(select(Fund).where(Fund.name == "Kindpakket 2027")).scalar_one()
        assert fund.pro_rata and fund.categories == ["clothing", "books_school"]
        assert store.balance(s, fund.account) == 1_500_000
        assert s.execute(select(func.count(Fund.id))).scalar_one() == 3  # no fund from the refusal
        event = (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.name == "fund.created")
                .order_by(AuditEvent.id.desc())
            )
            .scalars()
            .first()
        )
        assert event is not None and event.actor.startswith("admin:") and event.ip
    viewer = funds_app.test_client()
    viewer.post("/admin/login", data={"email": "lezer@voorbeeld.example", "password": f.PASSWORD})
    assert viewer.post("/admin/funds/new", data=form).status_code == 403


def test_fund_pages_check_the_tenant(admin_client: FlaskClient, world: World) -> None:
    assert admin_client.get(f"/admin/funds/{world.fund_id}").status_code == 200
    for path in ("", "/import", "/letters"):
        assert admin_client.get(f"/admin/funds/{world.other_fund_id}{path}").status_code == 404
    assert admin_client.get("/admin/funds/999999").status_code == 404


def _upload(client: FlaskClient, fund_id: int, data: bytes, name: str = "kinderen.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/admin/funds/{fund_id}/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_import_page_previews_then_confirm_imports_exactly_that_file(
    admin_client: FlaskClient, world: World, engine: Engine, funds_app: Flask
) -> None:
    preview = _upload(admin_client, world.fund_id, csv_bytes(FIRST_ROWS))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "€ 900,00" in html and "Importeren en budgetten toekennen" in html
    with Session(engine) as s:
        assert s.execute(select(func.count(Household.id))).scalar_one() == 0  # preview only
    sha = html.split('name="sha256" type="hidden" value="')[1][:64]
    assert (Path(funds_app.instance_path) / "imports" / f"{world.fund_id}-{sha}.csv").is_file()
    tampered = admin_client.post(
        f"/admin/funds/{world.fund_id}/import/confirm", data={"sha256": "0" * 64}
    )
    assert tampered.status_code == 302
    done = admin_client.post(
        f"/admin/funds/{world.fund_id}/import/confirm",
        data={"sha256": sha, "filename": "kinderen.csv"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/{world.fund_id}")
    overview = admin_client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Geïmporteerd: 2 huishoudens, 3 nieuwe kinderen" in overview
    with Session(engine) as s:
        assert s.execute(select(func.count(Child.id))).scalar_one() == 3
        assert s.execute(select(ImportRun.sha256)).scalar_one() == sha
    again = admin_client.post(f"/admin/funds/{world.fund_id}/import/confirm", data={"sha256": sha})
    assert again.status_code == 302  # the kept file is gone: nothing is imported twice
    with Session(engine) as s:
        assert s.execute(select(func.count(ImportRun.id))).scalar_one() == 1


def test_import_page_lists_errors_by_line_and_column(
    admin_client: FlaskClient, world: World, engine: Engine
) -> None:
    bad = csv_bytes([row(), row(child="K-2", born="morgen"), row(child="K-1")])
    page = _upload(admin_client, world.fund_id, bad)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "geboortedatum" in html and "ongeldige datum" in html
    assert "kind &#39;K-1&#39; staat al op regel 2" in html
    assert "import/confirm" not in html
    admin_client.get(f"/admin/funds/{world.fund_id}/import?lang=en")  # sets the cookie
    english = _upload(admin_client, world.fund_id, bad).get_data(as_text=True)
    assert "birth_date" in english and "invalid date" in english
    with Session(engine) as s:
        assert s.execute(select(func.count(Household.id))).scalar_one() == 0


def test_viewer_reads_but_cannot_import(viewer_client: FlaskClient, world: World) -> None:
    page = viewer_client.get(f"/admin/funds/{world.fund_id}/import")
    assert page.status_code == 200 and 'type="file"' not in page.get_data(as_text=True)
    assert _upload(viewer_client, world.fund_id, csv_bytes(FIRST_ROWS)).status_code == 403
    confirm = viewer_client.post(
        f"/admin/funds/{world.fund_id}/import/confirm", data={"sha256": "0" * 64}
    )
    assert confirm.status_code == 403


def test_fund_page_finds_a_household(
    admin_client: FlaskClient, world: World, engine: Engine
) -> None:
    with Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        f.family(s, fund, reference="H-77", children=("Noor",))
        s.commit()
    page = admin_client.get(f"/admin/funds/{world.fund_id}?household=H-77").get_data(as_text=True)
    assert "Noor" in page and "/households/" in page
    missing = admin_client.get(f"/admin/funds/{world.fund_id}?household=H-0").get_data(as_text=True)
    assert "H-0" in missing and "/households/" not in missing


@pytest.mark.browser
def test_import_preview_in_chromium_at_360px_by_keyboard(
    funds_app: Flask, world: World, tmp_path: Path
) -> None:
    """Log in, upload a file with one bad line, read the errors; then preview a good file."""
    from tests.browser import kit

    kit.require_chromium()
    bad = tmp_path / "fout.csv"
    bad.write_bytes(csv_bytes([*FIRST_ROWS, row("H-3", "K-4", "Bram", "31-02-2017")]))
    good = tmp_path / "kinderen.csv"
    good.write_bytes(csv_bytes(FIRST_ROWS))
    with kit.live_server(funds_app) as base, kit.browser_page() as page:
        errors = kit.watch_errors(page)
        page.goto(f"{base}/admin/login")
        page.fill("#email", "beheer@voorbeeld.example")
        page.fill("#password", f.PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/admin/")
        page.goto(f"{base}/admin/funds/{world.fund_id}/import")
        page.set_input_files("#file", str(bad))
        page.focus("#file")
        page.keyboard.press("Tab")  # the check button is next in the tab order
        assert page.evaluate("() => document.activeElement.textContent") == "Bestand controleren"
        page.keyboard.press("Enter")
        page.wait_for_selector("table caption:text('Fouten')")
        cells = page.locator("tbody tr").first.inner_text()
        assert "5" in cells and "geboortedatum" in cells and "ongeldige datum" in cells
        assert page.get_attribute(".flash-error", "role") == "alert"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(tmp_path / "preview-errors.png"), full_page=True)
        page.set_input_files("#file", str(good))
        page.click("button[type=submit]:text('Bestand controleren')")
        page.wait_for_selector("text=Importeren en budgetten toekennen")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(tmp_path / "preview-ok.png"), full_page=True)
        assert [e for e in errors if "status of 422" not in e] == []  # 422: the refused file
