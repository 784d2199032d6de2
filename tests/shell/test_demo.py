"""The demo of README command one: it seeds through the real use cases and its logins work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kindpakket import create_app
from kindpakket.cli import main
from kindpakket.db import db
from ledger import store


def test_demo_seeds_a_verifiable_world_and_prints_working_logins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINDPAKKET_INSTANCE_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/" in result.output
    codes = re.findall(r"KP(?:-[0-9A-Z]{4}){4}", result.output)
    assert len(set(codes)) == 4
    assert "beheer@voorbeeld.example" in result.output and "kassa@despaak.example" in result.output

    instance = tmp_path / "demo"
    app = create_app(
        {
            "INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'kindpakket.db'}",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context(), db.transaction() as session:
        report = store.verify(session)
        assert report.ok, report.problem
        assert report.entries > 15  # deposit, 13 budgets, payments and a refund
    client = app.test_client()
    activated = client.post(
        "/wallet/activate", data={"code": codes[0], "pin": "48213", "pin_again": "48213"}
    )
    assert activated.status_code == 302, activated.get_data(as_text=True)[:500]
    home = client.get("/wallet/").get_data(as_text=True)
    assert "Yasmina" in home and "300,00" in home
    shop = app.test_client()
    login = shop.post(
        "/merchant/login",
        data={"email": "kassa@despaak.example", "password": "demo-winkel-2026"},
    )
    assert login.status_code == 302
    where = app.test_client().get("/open/voorbeeld/shops").get_data(as_text=True)
    assert "13:30–17:30" in where and "Openingstijden niet opgegeven" not in where
    # The demo signs a checkpoint, so the public spending page has figures to show.
    spending = app.test_client().get("/open/voorbeeld/spending", follow_redirects=True)
    spending = spending.get_data(as_text=True)
    assert "€ 166,99" in spending and "nog geen ondertekend controlepunt" not in spending
    admin = app.test_client()
    assert (
        admin.post(
            "/admin/login",
            data={"email": "financien@voorbeeld.example", "password": "demo-gemeente-2026"},
        ).status_code
        == 302
    )
    app.extensions["kindpakket_db"][0].dispose()
