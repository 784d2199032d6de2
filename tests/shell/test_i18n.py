"""Every user-facing string has a Dutch translation, and the compiled catalog is current."""

from __future__ import annotations

from kindpakket import i18n_catalog


def test_every_message_has_a_dutch_translation() -> None:
    missing = i18n_catalog.missing()
    assert missing == {}, (
        "untranslated (run `python -m kindpakket.i18n_catalog missing`): "
        + ", ".join(f"{m!r} ({w[0]})" for m, w in list(missing.items())[:10])
    )


def test_compiled_catalog_is_up_to_date() -> None:
    # Compares meaning, not bytes: the .mo header names the Babel release that compiled it.
    assert i18n_catalog.compiled_messages() == i18n_catalog.messages(i18n_catalog.fragments()), (
        "run `python -m kindpakket.i18n_catalog compile`"
    )


def test_dutch_is_default_and_english_is_chosen_by_link(client) -> None:  # type: ignore[no-untyped-def]
    nl = client.get("/admin/login").get_data(as_text=True)
    assert 'lang="nl"' in nl and "Inloggen voor medewerkers" in nl
    en = client.get("/admin/login?lang=en")
    assert "Log in for municipality staff" in en.get_data(as_text=True)
    assert any("lang=en" in c for c in en.headers.getlist("Set-Cookie"))
    again = client.get("/admin/login").get_data(as_text=True)  # the cookie keeps the choice
    assert 'lang="en"' in again
