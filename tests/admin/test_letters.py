"""Activation letters: one page per household, readable text, scannable QR, euro formatting."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pypdf
import pytest
import zxingcpp
from PIL import Image

from admin.funds.letter_texts import letter_texts
from admin.funds.letters import Letter, LetterChild, group_code, qr_png, render_letters
from admin.funds.paper import format_date, format_euro
from tests.admin.conftest import addressee, words_app

URL = "https://kindpakket.example.nl/wallet/activeer"


def _letter(ref: str, parent: str, code: str, children: list[LetterChild]) -> Letter:
    """Return a letter for Zuidhorn with the given household details."""
    return Letter(
        to=addressee(ref, parent),
        activation_code=code,
        activation_url=f"{URL}?h={ref}",
        children=children,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
    )


LETTERS = [
    _letter("HH-0001", "Zoë de Vries", "K7PMQ2XRT9HB", [LetterChild("Chloë", 30000)]),
    _letter(
        "HH-0002",
        "Jan Jansen",
        "ABCD2345EFGH",
        [LetterChild("Daan", 30000), LetterChild("Noë", 12345)],
    ),
    _letter(
        "HH-0003", "Ayşe Öztürk", "ZZZZ9999YYYY", [LetterChild(f"Kind{i}", 100) for i in range(12)]
    ),
]


def _render(letters: list[Letter], language: str) -> bytes:
    """Render ``letters`` in ``language``, translated as the app does."""
    with words_app().app_context():
        return render_letters(
            letters, letter_texts, language=language, letter_date=date(2025, 1, 15)
        )


@pytest.fixture(scope="module")
def pdf_nl() -> bytes:
    """Render the three sample letters in Dutch."""
    return _render(LETTERS, "nl")


@pytest.fixture(scope="module")
def pdf_en() -> bytes:
    """Render the three sample letters in English."""
    return _render(LETTERS, "en")


def _page_texts(pdf: bytes) -> list[str]:
    """Extract the text of every page."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _render_page(pdf: bytes, page: int, dpi: int = 100) -> Image.Image:
    """Rasterise one page (1-based) with poppler's pdftoppm."""
    assert shutil.which("pdftoppm"), "install poppler-utils (pdftoppm) to render letters"
    args = ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile"]
    png = subprocess.run([*args, "-"], input=pdf, capture_output=True, check=True).stdout
    return Image.open(io.BytesIO(png))


def test_one_a4_page_per_household(pdf_nl: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf_nl))
    assert len(reader.pages) == 3
    for page in reader.pages:
        width_pt, height_pt = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width_pt / 72 * 25.4), round(height_pt / 72 * 25.4)) == (210, 297)


def test_dutch_text_has_codes_budgets_names_and_period(pdf_nl: bytes) -> None:
    first, second, third = _page_texts(pdf_nl)
    assert "K7PM Q2XR T9HB" in first
    assert "ABCD 2345 EFGH" in second
    assert "ZZZZ 9999 YYYY" in third
    assert "€ 300,00" in first
    assert "€ 123,45" in second and "€ 423,45" in second  # child and household total
    assert "€ 12,00" in third
    assert "Zoë de Vries" in first and "Chloë" in first
    assert "Noë" in second
    assert "Ayşe Öztürk" in third and "Kind11" in third
    assert "1 januari 2025 tot en met 31 december 2025" in first
    assert "9801 AB  ZUIDHORN" in first
    assert "Gemeente Westerkwartier" in first
    assert "15 januari 2025" in first and "HH-0001" in first
    assert "Zo betaalt u" in first and "Betalen" in first
    assert "Your activation code" not in first


def test_english_version_has_english_text(pdf_en: bytes) -> None:
    first, second, _ = _page_texts(pdf_en)
    assert "Your activation code" in first
    assert "How to pay" in first and "tap Pay" in first
    assert "never sees your name" in first
    assert "1 January 2025 until 31 December 2025" in first
    assert "€300.00" in first and "€423.45" in second
    assert "K7PM Q2XR T9HB" in first and "Chloë" in first
    assert "Uw activeringscode" not in first
    assert "€ 300,00" not in first


@pytest.mark.parametrize("page", [1, 2, 3])
def test_qr_on_rendered_page_decodes_to_activation_url(pdf_nl: bytes, page: int) -> None:
    image = _render_page(pdf_nl, page)
    found = [result.text for result in zxingcpp.read_barcodes(image)]
    assert found == [LETTERS[page - 1].activation_url]


def test_embedded_qr_image_decodes_to_activation_url(pdf_en: bytes) -> None:
    page = pypdf.PdfReader(io.BytesIO(pdf_en)).pages[1]
    images = [image.image for image in page.images]
    assert len(images) == 1
    assert [r.text for r in zxingcpp.read_barcodes(images[0])] == [LETTERS[1].activation_url]


def test_qr_png_round_trips() -> None:
    image = Image.open(io.BytesIO(qr_png("https://x.nl/a?b=c#d")))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == ["https://x.nl/a?b=c#d"]


def test_fonts_are_embedded(pdf_nl: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf_nl))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/DescendantFonts"][0].get_object() for font in fonts.values()]
    assert descriptors and all("/FontFile2" in d["/FontDescriptor"] for d in descriptors)
    assert all("DejaVuSans" in str(d["/BaseFont"]) for d in descriptors)


def test_unknown_language_and_empty_input_are_refused() -> None:
    with pytest.raises(ValueError):
        _render(LETTERS, "de")
    with pytest.raises(ValueError):
        _render([], "nl")


@pytest.mark.parametrize(
    ("cents", "nl", "en"),
    [
        (0, "€ 0,00", "€0.00"),
        (5, "€ 0,05", "€0.05"),
        (100, "€ 1,00", "€1.00"),
        (30000, "€ 300,00", "€300.00"),
        (123456789, "€ 1.234.567,89", "€1,234,567.89"),
        (-5, "€ -0,05", "-€0.05"),
        (-123456, "€ -1.234,56", "-€1,234.56"),
    ],
)
def test_format_euro(cents: int, nl: str, en: str) -> None:
    assert format_euro(cents, "nl") == nl
    assert format_euro(cents, "en") == en


def test_format_euro_rejects_unknown_language() -> None:
    with pytest.raises(ValueError):
        format_euro(100, "fr")


def test_format_date() -> None:
    assert format_date(date(2025, 3, 9), "nl") == "9 maart 2025"
    assert format_date(date(2025, 3, 9), "en") == "9 March 2025"


@pytest.mark.parametrize(
    ("raw", "grouped"),
    [("ABCDEFGH", "ABCD EFGH"), ("abcd-efgh-ij", "abcd efgh ij"), (" AB CD ", "ABCD"), ("", "")],
)
def test_group_code(raw: str, grouped: str) -> None:
    assert group_code(raw) == grouped
