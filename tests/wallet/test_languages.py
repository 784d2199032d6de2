"""The family's pages in six languages: nothing left in English, Arabic right to left, remembered.

Staff pages keep Dutch and English only: a family language in the cookie falls back to Dutch.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from kindpakket import i18n_catalog
from kindpakket.i18n import FAMILY_LANGUAGES
from tests.wallet.conftest import World, activate

FAMILY = ("tr", "ar", "pl", "uk")


class _Visible(HTMLParser):
    """Collect the text a reader sees or hears: text nodes and a few attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "alt", "placeholder") and value:
                self.texts.add(" ".join(value.split()))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.add(text)


def visible(page: str) -> set[str]:
    parser = _Visible()
    parser.feed(page)
    return parser.texts


def untranslated(page: str, language: str) -> set[str]:
    """Return family msgids shown in English although ``language`` has its own text."""
    catalog = i18n_catalog.fragments(language)
    english = {
        m
        for m in i18n_catalog.family_msgids()
        if "%(" not in m and "{" not in m and catalog.get(m) and catalog.get(m).string != m
    }
    return visible(page) & english


def family_pages(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Return every family page's HTML (logged in after activation) in the cookie's language."""
    voucher = world.vouchers[0].id
    pages = {"pass": client.get("/pass").get_data(as_text=True)}
    pages["activate"] = client.get("/wallet/activate").get_data(as_text=True)
    pages["login"] = client.get("/wallet/login").get_data(as_text=True)
    assert activate(client).status_code == 302
    for name, url in {
        "home": "/wallet/",
        "pay": f"/wallet/pay/{voucher}",
        "history": "/wallet/history",
        "devices": "/wallet/devices",
        "email": "/wallet/email/",
        "unblock": f"/wallet/vouchers/{voucher}/unblock",
    }.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.get_data(as_text=True)
    return pages


@pytest.mark.parametrize("language", FAMILY)
def test_every_family_page_speaks_the_chosen_language(  # type: ignore[no-untyped-def]
    client, world: World, language: str
) -> None:
    first = client.get(f"/wallet/login?lang={language}")
    assert any(f"lang={language}" in c for c in first.headers.getlist("Set-Cookie"))
    pages = family_pages(client, world)  # no ?lang= any more: the cookie remembers
    for name, page in pages.items():
        assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page, (
            name
        )
        assert untranslated(page, language) == set(), (name, language)
    wording = {"tr": "Bütçeler", "ar": "الميزانيات", "pl": "Budżety", "uk": "Бюджети"}
    assert wording[language] in pages["home"]


def test_the_choice_offers_six_languages_each_named_in_itself(client, world: World) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/wallet/login?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    for code, name in {
        "nl": "Nederlands",
        "en": "English",
        "tr": "Türkçe",
        "pl": "Polski",
        "uk": "Українська",
    }.items():
        assert f'hreflang="{code}" lang="{code}"' in page and name in page
    assert "تسجيل الدخول" in page  # "Log in"
    assert set(FAMILY_LANGUAGES) == {"nl", "en", "tr", "ar", "pl", "uk"}


def test_dutch_and_english_family_pages_have_no_stray_english(client, world: World) -> None:  # type: ignore[no-untyped-def]
    pages = family_pages(client, world)
    for name, page in pages.items():
        assert '<html lang="nl" dir="ltr">' in page
        assert untranslated(page, "nl") == set(), name


@pytest.mark.parametrize("language", FAMILY)
def test_staff_pages_ignore_family_languages(client, language: str) -> None:  # type: ignore[no-untyped-def]
    client.get(f"/wallet/login?lang={language}")  # the family's choice is in the cookie
    admin = client.get("/admin/login").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in admin and "Inloggen voor medewerkers" in admin
    assert "Türkçe" not in admin and "العربية" not in admin  # staff pages offer nl/en only
    asked = client.get(f"/admin/login?lang={language}")
    assert '<html lang="nl"' in asked.get_data(as_text=True)
    assert not any(f"lang={language}" in c for c in asked.headers.getlist("Set-Cookie"))
    shop = client.get("/merchant/login").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in shop
    again = client.get("/wallet/login").get_data(as_text=True)  # still remembered for the family
    assert f'<html lang="{language}"' in again


def test_every_family_msgid_is_translated_in_the_four_languages() -> None:
    for language in FAMILY:
        assert i18n_catalog.missing(language) == {}, language


def test_the_family_sources_exist_so_their_msgids_are_checked() -> None:
    # A moved file would silently drop its msgids from the check above.
    for source in i18n_catalog.FAMILY_SOURCES:
        assert (i18n_catalog.ROOT / source).exists(), source
    family = i18n_catalog.family_msgids()
    printed = {m for m, where in family.items() if any("letter_texts" in w for w in where)}
    assert "Your PIN for the Kindpakket pass" in printed and "How to pay" in printed


def test_compiled_family_catalogs_are_up_to_date() -> None:
    for language in FAMILY:
        assert i18n_catalog.compiled_messages(
            i18n_catalog.mo_path(language)
        ) == i18n_catalog.messages(i18n_catalog.fragments(language)), language
