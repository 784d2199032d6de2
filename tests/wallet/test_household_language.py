"""The wallet opens in the household's language from the import; a cookie choice still wins."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.wallet.conftest import World, activate


def _speak(session: Session, world: World, language: str | None) -> None:
    world.household.language = language
    session.commit()


def test_wallet_opens_in_the_household_language_after_login(  # type: ignore[no-untyped-def]
    client, session: Session, world: World
) -> None:
    _speak(session, world, "pl")
    before = client.get("/wallet/login").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in before  # nobody logged in yet: Dutch
    assert activate(client).status_code == 302
    home = client.get("/wallet/")
    assert '<html lang="pl" dir="ltr">' in home.get_data(as_text=True)
    assert "Budżety" in home.get_data(as_text=True)
    assert not any("lang=" in c for c in home.headers.getlist("Set-Cookie"))  # not a choice
    staff = client.get("/admin/login").get_data(as_text=True)
    assert '<html lang="nl"' in staff  # staff pages stay Dutch/English


def test_arabic_household_gets_right_to_left_pages(  # type: ignore[no-untyped-def]
    client, session: Session, world: World
) -> None:
    _speak(session, world, "ar")
    assert activate(client).status_code == 302
    assert '<html lang="ar" dir="rtl">' in client.get("/wallet/").get_data(as_text=True)


def test_the_cookie_choice_wins_over_the_household_language(  # type: ignore[no-untyped-def]
    client, session: Session, world: World
) -> None:
    _speak(session, world, "tr")
    client.get("/wallet/login?lang=en")
    assert activate(client).status_code == 302
    assert '<html lang="en" dir="ltr">' in client.get("/wallet/").get_data(as_text=True)
    client.get("/wallet/?lang=uk")
    assert '<html lang="uk" dir="ltr">' in client.get("/wallet/history").get_data(as_text=True)


def test_household_without_a_language_sees_dutch(client, world: World) -> None:  # type: ignore[no-untyped-def]
    assert activate(client).status_code == 302
    assert '<html lang="nl" dir="ltr">' in client.get("/wallet/").get_data(as_text=True)
