"""Rough edges a new user met: English error pages, raw keys, a silent scanner, the demo port."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kindpakket.cli import main
from tests import factories as f


def test_a_missing_page_speaks_dutch(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/bestaat-niet")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "Deze pagina bestaat niet" in html
    assert "The requested URL" not in html and "Not Found" not in html


def test_a_missing_page_in_english_when_asked(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/bestaat-niet?lang=en").get_data(as_text=True)
    assert "This page does not exist" in html


def test_too_large_names_the_limit(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 2048
    answer = client.post("/admin/login", data={"email": "x" * 5000, "password": "y"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 413
    assert "te groot" in html and "De grens is 2 kB" in html
    assert "Request Entity Too Large" not in html


def test_json_errors_carry_the_translated_text(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/bestaat-niet", headers={"Accept-Language": "nl"}).get_json()
    assert body["error"]["code"] == "not_found"
    assert "bestaat niet" in body["error"]["message"]


def test_shop_categories_are_labels_not_keys(app: Flask, engine: Engine) -> None:
    with Session(engine) as s:
        m = f.municipality(s)
        fund = f.fund(s, m)
        f.admin_user(s, m)
        f.shop(s, fund, category="sports")
        s.commit()
    client = app.test_client()
    client.post("/admin/login", data={"email": "beheer@voorbeeld.example", "password": f.PASSWORD})
    html = client.get("/admin/shops/").get_data(as_text=True)
    assert "<td>Sport</td>" in html and ">sports<" not in html


def test_an_unapproved_shop_is_told_on_the_scanner(app: Flask, engine: Engine) -> None:
    with Session(engine) as s:
        m = f.municipality(s)
        f.fund(s, m)
        f.shop(s, None, approval=None)
        s.commit()
    client = app.test_client()
    login = {"email": "kassa@spaak.example", "password": f.PASSWORD}
    assert client.post("/merchant/login", data=login).status_code == 302
    html = client.get("/merchant/scan").get_data(as_text=True)
    assert "nog niet toegelaten" in html


def test_an_approved_shop_sees_no_such_notice(app: Flask, engine: Engine) -> None:
    with Session(engine) as s:
        f.shop(s, f.fund(s, f.municipality(s)))
        s.commit()
    client = app.test_client()
    login = {"email": "kassa@spaak.example", "password": f.PASSWORD}
    assert client.post("/merchant/login", data=login).status_code == 302
    html = client.get("/merchant/scan").get_data(as_text=True)
    assert "nog niet toegelaten" not in html
    # The amount step promises nothing before a check: its heading starts unchecked.
    heading = html.split('id="amount-title"', 1)[1].split("</h2>", 1)[0]
    assert "geldig" not in heading and "wordt gecontroleerd als u bevestigt" in heading


def test_the_demo_port_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINDPAKKET_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("KINDPAKKET_DEMO_PORT", "8123")
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output


def test_make_demo_passes_the_port() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "kindpakket demo $(if $(PORT),--port $(PORT)) $(DEMO_ARGS)" in makefile
