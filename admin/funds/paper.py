"""The look every printed paper for a family shares: activation letters, reminders, passes.

Fonts, margins, the sender and address window of a DIN 5008 window envelope, the reference
block and footer, and the languages: each household's paper is printed in its own language
when the import named one (else the run's), Arabic shaped right to left. The wording comes
from :mod:`admin.funds.letter_texts`; this module only lays it out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from babel import dates as babel_dates
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from kindpakket.money import format_euro as euro_text
from kindpakket.time import today as amsterdam_today

if TYPE_CHECKING:
    from wallet.models import Fund, Household

FONT_DIR = Path(__file__).parent.parent / "fonts"
FONT = "DejaVu"
LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")  # kindpakket.i18n.FAMILY_LANGUAGES
RTL = frozenset({"ar"})  # shaped right to left (fpdf2 text shaping with uharfbuzz)
LEFT = 20.0  # mm; DIN 5008 left margin, also the left edge of the envelope window
WIDTH = 170.0  # mm of text width on A4 (210 - 2 x 20)
GREY = (90, 90, 90)
BOX_FILL = (238, 244, 250)
BOX_LINE = (40, 90, 150)


@dataclass(frozen=True)
class Addressee:
    """Whom a printed paper goes to and from whom: the head and foot of every letter."""

    household_ref: str
    parent_name: str
    address: str  # street and number; several lines may be separated by newlines
    postcode: str
    city: str
    fund_name: str
    municipality_name: str
    language: str | None = None  # the household's own language, when the import named one


def addressee(household: Household, fund: Fund) -> Addressee:
    """Return the household's address block for a letter about ``fund``."""
    return Addressee(
        household_ref=household.reference,
        parent_name=household.parent_name,
        address=household.address,
        postcode=household.postcode,
        city=household.city,
        fund_name=fund.name,
        municipality_name=fund.municipality.name,
        language=household.language,
    )


def own_language(language: str | None, default: str) -> str:
    """Return the language a household's paper is printed in: its own, else ``default``."""
    return language if language in LANGUAGES else default


class Addressed(Protocol):
    """A letter to one household."""

    @property
    def to(self) -> Addressee: ...


A = TypeVar("A", bound=Addressed)
W = TypeVar("W")


def render_each(
    items: Iterable[A],
    wording: Callable[[str], W],
    draw: Callable[[FPDF, A, W, date], None],
    *,
    language: str,
    day: date | None = None,
) -> bytes:
    """Draw one A4 page per letter, each in its household's language; return the PDF bytes.

    ``wording(language)`` gives a letter's texts (asked once per language); ``language``
    is the run's: the document's declared language and the one for households without
    their own. ``draw`` fills a fresh page.
    """
    check_language(language)
    day = day or amsterdam_today()
    words = functools.cache(wording)
    pdf = new_pdf(language, day)
    for item in items:
        own = own_language(item.to.language, language)
        speak(pdf, own)
        pdf.add_page()
        draw(pdf, item, words(own), day)
    if pdf.page == 0:
        raise ValueError("nothing to print: no letters")
    return bytes(pdf.output())


def format_euro(cents: int, language: str = "nl") -> str:
    """Format integer cents as euros: "€ 1.234,50" (nl) or "€1,234.50" (en)."""
    check_language(language)
    return euro_text(cents, language)


def format_date(day: date, language: str = "nl") -> str:
    """Format a date in words: "1 januari 2025" (nl) or "1 January 2025" (en)."""
    check_language(language)
    return babel_dates.format_date(day, "d MMMM y", locale=language)


def check_language(language: str) -> None:
    """Refuse a language we have no texts for."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; choose one of {LANGUAGES}")


def new_pdf(
    language: str, day: date, page: str | tuple[float, float] = "A4", margin: float = LEFT
) -> FPDF:
    """Create a document with the embedded DejaVu fonts and no automatic page breaks."""
    check_language(language)
    pdf = FPDF(orientation="portrait", unit="mm", format=page)
    pdf.set_auto_page_break(False)
    pdf.set_margins(margin, 15 if margin else 0, margin)
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_lang(language)
    pdf.set_creation_date(datetime(day.year, day.month, day.day))
    return pdf


def speak(pdf: FPDF, language: str) -> None:
    """Write what follows in ``language``: Arabic shaped right to left, others as they are."""
    check_language(language)
    if language in RTL:
        _shape_rtl(pdf)
    else:
        pdf.set_text_shaping(False)


def _shape_rtl(pdf: FPDF) -> None:
    """Shape Arabic text right to left (joined letters; needs uharfbuzz)."""
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language="ara")


def start(pdf: FPDF) -> str:
    """Return the alignment of running text: right for right-to-left letters, else left."""
    return "R" if pdf.text_shaping else "L"


@contextmanager
def left_to_right(pdf: FPDF) -> Iterator[None]:
    """Write codes, numbers and postal addresses left to right in every language.

    Right-to-left shaping would reorder groups of digits ("1234 5678" as "5678 1234").
    """
    shaped = bool(pdf.text_shaping)
    pdf.set_text_shaping(False)
    try:
        yield
    finally:
        if shaped:
            _shape_rtl(pdf)


def write(
    pdf: FPDF, text: str, *, size: float = 10.5, bold: bool = False, height: float = 5.0
) -> None:
    """Write a wrapped paragraph over the full text width."""
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_x(LEFT)
    pdf.multi_cell(WIDTH, height, text, align=start(pdf), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def sender(pdf: FPDF, to: Addressee, *, fund: bool = True) -> None:
    """Print the municipality as sender at the top of the page (and the fund below it)."""
    pdf.set_xy(LEFT, 18)
    pdf.set_font(FONT, "B", 16)
    pdf.set_text_color(*BOX_LINE)
    pdf.cell(WIDTH, 8, to.municipality_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if fund:
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(*GREY)
        pdf.cell(WIDTH, 5, to.fund_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def address_window(pdf: FPDF, to: Addressee) -> None:
    """Print return address and recipient in the window area (20 mm left, 45-90 mm down)."""
    pdf.set_xy(LEFT, 50)
    pdf.set_font(FONT, "", 7)
    pdf.set_text_color(*GREY)
    pdf.cell(85, 4, to.municipality_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    lines = [to.parent_name, *to.address.splitlines()]
    lines.append(f"{to.postcode}  {to.city.upper()}")
    pdf.set_xy(LEFT, 60)
    pdf.set_font(FONT, "", 11)
    with left_to_right(pdf):  # a Dutch postal address reads left to right in every letter
        for line in lines:
            pdf.set_x(LEFT)
            pdf.cell(85, 5.5, fit(pdf, line.strip(), 85), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def fit(pdf: FPDF, text: str, width: float) -> str:
    """Shorten text with an ellipsis until it fits the width in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def reference_block(pdf: FPDF, to: Addressee, labels: tuple[str, str], when: str) -> None:
    """Print date and household reference (``labels``) to the right of the address window."""
    rows = ((labels[0], when), (labels[1], to.household_ref))
    pdf.set_xy(125, 60)
    for label, value in rows:
        pdf.set_x(125)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*GREY)
        pdf.cell(65, 4, label, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(0, 0, 0)
        pdf.cell(65, 5, value, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.ln(2)


def footer(pdf: FPDF, to: Addressee, reference: str) -> None:
    """Print sender, fund and reference in small type at the bottom of the page."""
    pdf.set_xy(LEFT, 287)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(*GREY)
    parts = (to.municipality_name, to.fund_name, f"{reference} {to.household_ref}")
    pdf.cell(WIDTH, 4, "  ·  ".join(parts), align="C")
    pdf.set_text_color(0, 0, 0)
