"""Letters in the family languages: Polish text, Arabic shaped right to left (uharfbuzz)."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import pypdf
import pytest

from admin.funds.letter_texts import letter_texts
from admin.funds.letters import Letter, LetterChild, render_letters
from tests.admin.conftest import addressee, words_app

LETTER = Letter(
    to=addressee(),
    activation_code="K7PMQ2XRT9HB",
    activation_url="https://kindpakket.example.nl/wallet/activeer?h=HH-0001",
    children=[LetterChild("Chloë", 30000)],
    period_start=date(2025, 1, 1),
    period_end=date(2025, 12, 31),
)


def _text(language: str) -> str:
    with words_app().app_context():
        pdf = render_letters(
            [LETTER], letter_texts, language=language, letter_date=date(2025, 1, 15)
        )
    return pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_polish_letter_is_in_polish() -> None:
    text = _text("pl")
    assert "Jak płacić" in text and "Twój kod aktywacyjny" in text
    assert "15 stycznia 2025" in text and "300,00 €" in text
    assert "How to pay" not in text and "Zo betaalt u" not in text


def test_arabic_letter_is_in_arabic_and_keeps_the_address_left_to_right() -> None:
    text = _text("ar")
    assert "كيف تدفع" in text  # "How to pay", shaped and extracted in reading order
    assert "رمز التفعيل الخاص بك" in text  # "Your activation code"
    assert "How to pay" not in text
    assert "9801 AB  ZUIDHORN" in text  # the postal address is not mirrored
    assert "K7PM Q2XR T9HB" in text


@pytest.mark.parametrize("language", ["tr", "uk"])
def test_turkish_and_ukrainian_letters(language: str) -> None:
    wording = {"tr": "Nasıl ödenir", "uk": "Як платити"}
    assert wording[language] in _text(language)


def test_an_arabic_letter_keeps_a_code_that_starts_with_digits_in_its_order() -> None:
    letter = dataclasses.replace(LETTER, activation_code="2345K7PMQ2XRT9HB")
    with words_app().app_context():
        pdf = render_letters([letter], letter_texts, language="ar", letter_date=date(2025, 1, 15))
    assert "2345 K7PM Q2XR T9HB" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
