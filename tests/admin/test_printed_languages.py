"""Reminders, passes and PIN letters say the same words as before, in the household's language.

The wording comes from the translations (admin/funds/letter_texts.py and the .po files):
Dutch and English word for word as they were printed before, Turkish, and Arabic shaped
right to left with numbers (PIN, pass number) still in their order.
"""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from admin.funds import importer
from admin.funds.letter_texts import pass_texts, reminder_texts
from admin.notifications import reminder_letters
from admin.passes import orders
from admin.passes import printing as passprint
from kindpakket.appkeys import app_keyring
from tests.admin.conftest import HEADER, World, addressee, csv_bytes, row, words_app
from wallet.models import Fund

DAY = date(2025, 11, 15)


def _words(pdf: bytes) -> list[str]:
    """Return each page's text with its whitespace collapsed (lines wrap where they may)."""
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


REMINDER = {
    "nl": [
        "Kindpakket 2025: u heeft nog € 42,50 over",
        "Beste Zoë de Vries,",
        "Uw kinderen hebben samen nog € 42,50 budget over bij Kindpakket 2025.",
        "U kunt het budget gebruiken tot en met 31 december 2025. Wat daarna over is, vervalt. "
        "Gebruik het dus op tijd.",
        "Betalen gaat zoals altijd: open de website, tik op Betalen en laat de QR-code zien bij "
        "de kassa. Kunt u niet inloggen? Neem contact op met Gemeente Westerkwartier.",
        "Heeft u een e-mailadres? Vul het in bij uw budget, dan krijgt u herinneringen per e-mail.",
        "Datum 15 november 2025",
        "Kenmerk HH-0001",
    ],
    "en": [
        "Kindpakket 2025: you still have €42.50 left",
        "Dear Zoë de Vries,",
        "Your children together still have €42.50 of budget left in Kindpakket 2025.",
        "You can use the budget until 31 December 2025. Money left after that expires. "
        "So please use it in time.",
        "Paying works as always: open the website, tap Pay and show the QR code at the till. "
        "Cannot log in? Please contact Gemeente Westerkwartier.",
        "Do you have an e-mail address? Add it in your wallet to get reminders by e-mail.",
        "Date 15 November 2025",
        "Reference HH-0001",
    ],
    "tr": [
        "Kindpakket 2025: hâlâ €42,50 bütçeniz var",
        "Sayın Zoë de Vries,",
        "Bütçeyi 31 Aralık 2025 tarihine kadar kullanabilirsiniz.",
        "Tarih 15 Kasım 2025",
    ],
    "ar": [
        "لا يزال لديك",  # "you still have ... left"
        "يمكنك استخدام الميزانية حتى",  # "You can use the budget until"
        "9801 AB ZUIDHORN",  # the postal address is not mirrored
    ],
}

PIN_LETTER = {
    "nl": [
        "Uw pincode voor de Kindpakketpas",
        "Met deze pincode betaalt u met uw Kindpakketpas (Kindpakket 2025). U krijgt de pas "
        "apart. In de winkel scant de winkel de pas, en typt u de pincode op het scherm van de "
        "winkel.",
        "Uw pincode 2 7 1 8 3 9",
        "Vertel de pincode aan niemand en bewaar hem niet bij de pas. Na 3 keer een verkeerde "
        "pincode wordt de pas geblokkeerd: bel dan Gemeente Westerkwartier. Pincode vergeten? "
        "Gemeente Westerkwartier stuurt u een nieuwe.",
    ],
    "en": [
        "Your PIN for the Kindpakket pass",
        "With this PIN you pay with your Kindpakket pass (Kindpakket 2025). The pass comes "
        "separately. In the shop, the shop scans the pass and you type the PIN on the shop's "
        "screen.",
        "Your PIN 2 7 1 8 3 9",
        "Tell nobody the PIN and do not keep it with the pass. After 3 wrong PINs the pass is "
        "blocked: then call Gemeente Westerkwartier. Forgot the PIN? Gemeente Westerkwartier "
        "sends you a new one.",
    ],
    "tr": ["Kindpakket kartınız için PIN'iniz", "PIN'iniz 2 7 1 8 3 9"],
    "ar": ["رقمك السري لبطاقة", "2 7 1 8 3 9"],  # the digits in their order, not mirrored
}

CARD = {
    "nl": [
        "Kindpakketpas",
        "Pasnummer",
        "Betalen: laat de winkel de QR-code scannen en typ uw "
        "pincode. Kwijt? Blokkeer de pas in de app of bel de gemeente.",
    ],
    "en": [
        "Kindpakket pass",
        "Pass number",
        "To pay: let the shop scan the QR code and type "
        "your PIN. Lost it? Block the pass in the app or call the municipality.",
    ],
    "tr": ["Kindpakket kartı", "Kart numarası"],
    "ar": ["رقم البطاقة"],  # "Pass number"
}


@pytest.mark.parametrize("language", ["nl", "en", "tr", "ar"])
def test_a_printed_reminder_says_it_in_the_households_language(language: str) -> None:
    item = reminder_letters.Reminder(addressee(language=language), 4_250, date(2025, 12, 31))
    with words_app().app_context():
        pdf = reminder_letters.render([item], reminder_texts, letter_date=DAY)
    (text,) = _words(pdf)
    for words in REMINDER[language]:
        assert words in text
    if language != "nl":
        assert "Beste" not in text and "Datum" not in text


@pytest.mark.parametrize("language", ["nl", "en", "tr", "ar"])
def test_a_pin_letter_says_it_in_the_households_language(language: str) -> None:
    letter = passprint.PinLetter(addressee(language=language), "271839")
    with words_app().app_context():
        pdf = passprint.render_pin_letters([letter], pass_texts, day=DAY)
    (text,) = _words(pdf)
    for words in PIN_LETTER[language]:
        assert words in text
    assert "9 3 8 1 7 2" not in text
    if language != "nl":
        assert "pincode" not in text


def test_cards_each_in_their_households_language_on_one_sheet() -> None:
    cards = [
        passprint.Card(f"12345678901{i}", "KP2:" + "A" * 40, "Kindpakket 2025", language)
        for i, language in enumerate(["nl", "en", "tr", "ar"])
    ]
    with words_app().app_context():
        (sheet,) = _words(passprint.render_cards(cards, pass_texts, language="nl", day=DAY))
    for words in [w for language in ("nl", "en", "tr", "ar") for w in CARD[language]]:
        assert words in sheet
    assert "1234 5678 9013" in sheet  # the Arabic card's number, not mirrored


def test_passes_reminders_and_pin_letters_follow_the_households_language(
    funds_app: Flask, engine: Engine, world: World
) -> None:
    rows = [
        row(f"H-{n}", f"K-{n}", f"Kind{n}", parent=f"Ouder {n}") + f";{language}"
        for n, language in enumerate(("tr", "ar", ""), 1)
    ]
    with funds_app.app_context(), Session(engine) as s:
        fund = s.get(Fund, world.fund_id)
        assert fund is not None
        assert importer.import_rows(s, fund, csv_bytes(rows, header=HEADER + ";taal"), actor="t")
        batch = orders.print_passes(s, fund, app_keyring(), actor="test", language="en")
        assert batch is not None and batch.pins_pdf is not None
        turkish, arabic, english = _words(batch.pins_pdf)  # by household id: H-1, H-2, H-3
        assert "Ouder 1" in turkish and "Kindpakket kartınız için PIN'iniz" in turkish
        assert "Ouder 2" in arabic and "رقمك السري لبطاقة" in arabic
        assert "Ouder 3" in english and "Your PIN for the Kindpakket pass" in english
        cards = " ".join(_words(batch.cards_pdf))
        assert "Kart numarası" in cards and "رقم البطاقة" in cards and "Pass number" in cards
        items = reminder_letters.reminders(s, fund)
        assert [i.to.language for i in items] == ["tr", "ar", None]
        printed = _words(reminder_letters.render(items, reminder_texts, language="nl"))
        assert "Sayın Ouder 1," in printed[0] and "Beste Ouder 3," in printed[2]
