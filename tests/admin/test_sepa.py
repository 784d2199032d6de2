"""SEPA credit-transfer files: XSD-valid, exact sums, refusals with codes."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask_babel import force_locale
from lxml import etree

from admin.settlement import sepa_messages
from admin.settlement.sepa import (
    Debtor,
    SepaError,
    Transfer,
    build_credit_transfer,
    cents_to_xml_amount,
    to_sepa_text,
    validate_pain001,
    xml_amount_to_cents,
)

CREATED = datetime(2025, 3, 1, 9, 30, 15)
EXECUTE = date(2025, 3, 3)
pytestmark = pytest.mark.usefixtures("words")  # refusals are said in Dutch and English


def _said(err: SepaError, language: str) -> str:
    """Return the refusal as shown in ``language``."""
    with force_locale(language):
        return sepa_messages.text(err)


DEBTOR = Debtor(name="Gemeente Westerkwartier", iban="NL91 ABNA 0417 1643 00", bic="ABNANL2A")


def _transfers() -> list[Transfer]:
    """Return four shop payouts, including awkward names and amounts."""
    return [
        Transfer(
            "KP-PAYOUT-1",
            "Boekhandel Noël & Zoon",
            "NL20INGB0001234567",
            None,
            1250,
            "Kindpakket maart",
        ),
        Transfer(
            "KP-PAYOUT-2", "Café Brûlé", "NL18RABO0123459876", "RABONL2U", 30000, "Uitbetaling 2/3"
        ),
        Transfer("KP-PAYOUT-3", "Fietsen Ærø", "DE89370400440532013000", None, 5, "Périodé € 1"),
        Transfer("KP-PAYOUT-4", "Sport", "BE68539007547034", None, 123456789, "x"),
    ]


def _build(version: str = "03", **kwargs: object) -> bytes:
    """Build the standard file with optional overrides."""
    args: dict[str, object] = {
        "message_id": "KP-2025-03-01-001",
        "execution_date": EXECUTE,
        "created_at": CREATED,
        "version": version,
    }
    args.update(kwargs)
    transfers = args.pop("transfers", _transfers())
    return build_credit_transfer(DEBTOR, transfers, **args)  # type: ignore[arg-type]


def _ns(root: etree._Element) -> dict[str, str]:
    """Return the document namespace map."""
    return {"p": etree.QName(root).namespace}


def _refused(code: str, fn, *args, **kwargs) -> SepaError:  # type: ignore[no-untyped-def]
    """Call fn, assert it raises SepaError with code, and return the error."""
    with pytest.raises(SepaError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, (info.value.code, _said(info.value, "en"))
    assert _said(info.value, "nl") and _said(info.value, "en")
    return info.value


@pytest.mark.parametrize("version", ["03", "09"])
def test_file_with_several_transfers_validates_against_xsd(version: str) -> None:
    xml = _build(version)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    validate_pain001(xml, version)
    root = etree.fromstring(xml)
    assert etree.QName(root).namespace == f"urn:iso:std:iso:20022:tech:xsd:pain.001.001.{version}"
    ns = _ns(root)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns) == (
        "KP-2025-03-01-001"
    )
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", namespaces=ns) == (
        "2025-03-01T09:30:15"
    )
    assert len(root.findall(".//p:CdtTrfTxInf", ns)) == 4
    bic_tag = "BIC" if version == "03" else "BICFI"
    assert root.findtext(f".//p:DbtrAgt/p:FinInstnId/p:{bic_tag}", namespaces=ns) == "ABNANL2A"


@pytest.mark.parametrize("version", ["03", "09"])
def test_sum_of_xml_amounts_equals_sum_of_cents(version: str) -> None:
    root = etree.fromstring(_build(version))
    ns = _ns(root)
    amounts = [xml_amount_to_cents(n.text) for n in root.iterfind(".//p:InstdAmt", ns)]
    assert sorted(amounts) == sorted(t.amount_cents for t in _transfers())
    expected_total = sum(t.amount_cents for t in _transfers())
    assert sum(amounts) == expected_total
    ctrl = root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns)
    assert ctrl == "1234880.44"
    assert xml_amount_to_cents(ctrl) == expected_total
    texts = {n.text for n in root.iterfind(".//p:InstdAmt", ns)}
    assert texts == {"12.50", "300.00", "0.05", "1234567.89"}


def test_output_is_deterministic_for_the_same_input() -> None:
    assert _build("03") == _build("03")
    assert _build("09") == _build("09")


def test_batch_booking_false_gives_one_block_per_transfer() -> None:
    xml = _build("09", batch_booking=False)
    root = etree.fromstring(xml)
    ns = _ns(root)
    blocks = root.findall(".//p:PmtInf", ns)
    assert [b.findtext("p:PmtInfId", namespaces=ns) for b in blocks] == [
        "KP-PAYOUT-1",
        "KP-PAYOUT-2",
        "KP-PAYOUT-3",
        "KP-PAYOUT-4",
    ]
    assert {b.findtext("p:BtchBookg", namespaces=ns) for b in blocks} == {"false"}


def test_missing_debtor_bic_is_marked_not_provided() -> None:
    xml = build_credit_transfer(
        Debtor("Gemeente", "NL91ABNA0417164300", None),
        _transfers()[:1],
        message_id="M1",
        execution_date=EXECUTE,
        created_at=CREATED,
        version="09",
    )
    root = etree.fromstring(xml)
    assert root.findtext(".//p:DbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=_ns(root)) == (
        "NOTPROVIDED"
    )


@pytest.mark.parametrize("version", ["03", "09"])
def test_tampered_control_sum_is_refused(version: str) -> None:
    xml = _build(version)
    tampered = xml.replace(b"<CtrlSum>1234880.44</CtrlSum>", b"<CtrlSum>1234880.45</CtrlSum>", 1)
    assert tampered != xml
    validate_pain001(xml, version)
    err = _refused("control_sum_mismatch", validate_pain001, tampered, version)
    assert "GrpHdr" in _said(err, "en")


def test_tampered_transaction_count_in_block_is_refused() -> None:
    root = etree.fromstring(_build("03"))
    ns = _ns(root)
    root.find(".//p:PmtInf/p:NbOfTxs", ns).text = "3"
    err = _refused("control_sum_mismatch", validate_pain001, etree.tostring(root), "03")
    assert "PmtInf 1" in _said(err, "en")


def test_tampered_amount_is_refused_by_control_sum() -> None:
    xml = _build("03").replace(b">12.50<", b">12.60<", 1)
    _refused("control_sum_mismatch", validate_pain001, xml, "03")


def test_schema_violation_names_the_line() -> None:
    xml = _build("03").replace(b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>NOPE</ChrgBr>")
    err = _refused("schema_invalid", validate_pain001, xml, "03")
    assert "line " in _said(err, "en") and "ChrgBr" in _said(err, "en")


def test_wrong_version_namespace_is_schema_invalid() -> None:
    _refused("schema_invalid", validate_pain001, _build("03"), "09")


def test_broken_xml_is_refused() -> None:
    _refused("invalid_xml", validate_pain001, b"<Document><unclosed>", "03")


def test_wrong_creditor_iban_is_refused_naming_the_creditor() -> None:
    bad = [
        *_transfers(),
        Transfer("KP-PAYOUT-5", "Speelgoed Bert", "NL91ABNA0417164301", None, 100, "x"),
    ]
    err = _refused("invalid_iban", _build, transfers=bad)
    assert "Speelgoed Bert" in _said(err, "nl") and "Speelgoed Bert" in _said(err, "en")
    assert "KP-PAYOUT-5" in _said(err, "en")


def test_wrong_debtor_iban_is_refused() -> None:
    with pytest.raises(SepaError) as info:
        build_credit_transfer(
            Debtor("Gemeente X", "NL00ABNA0000000000", None),
            _transfers(),
            message_id="M1",
            execution_date=EXECUTE,
            created_at=CREATED,
        )
    assert info.value.code == "invalid_iban"
    assert "Gemeente X" in _said(info.value, "en")


def test_wrong_bic_is_refused() -> None:
    bad = [Transfer("E1", "Shop", "NL20INGB0001234567", "NOTABIC!", 100, "x")]
    _refused("invalid_bic", _build, transfers=bad)


@pytest.mark.parametrize("cents", [0, -1, -30000])
def test_zero_or_negative_amount_is_refused(cents: int) -> None:
    bad = [Transfer("E1", "Bakker Bart", "NL20INGB0001234567", None, cents, "x")]
    err = _refused("amount_not_positive", _build, transfers=bad)
    assert "Bakker Bart" in _said(err, "en")


def test_non_integer_and_too_large_amounts_are_refused() -> None:
    float_amount = [Transfer("E1", "Shop", "NL20INGB0001234567", None, 12.5, "x")]  # type: ignore[arg-type]
    _refused("amount_not_integer", _build, transfers=float_amount)
    huge = [Transfer("E1", "Shop", "NL20INGB0001234567", None, 100_000_000_000, "x")]
    _refused("amount_too_large", _build, transfers=huge)


def test_empty_list_is_refused() -> None:
    _refused("empty_batch", _build, transfers=[])


def test_execution_date_in_past_is_refused() -> None:
    _refused("execution_date_in_past", _build, execution_date=date(2025, 2, 28))


def test_execution_date_today_is_allowed() -> None:
    validate_pain001(_build(execution_date=CREATED.date()), "03")


@pytest.mark.parametrize("bad_id", ["", "has space", "/lead", "trail/", "a//b", "x" * 36, "KP_1"])
def test_bad_end_to_end_id_is_refused(bad_id: str) -> None:
    bad = [Transfer(bad_id, "Shop", "NL20INGB0001234567", None, 100, "x")]
    _refused("invalid_end_to_end_id", _build, transfers=bad)


def test_bad_message_id_is_refused() -> None:
    _refused("invalid_message_id", _build, message_id="bericht met spaties")


def test_duplicate_end_to_end_id_is_refused() -> None:
    one = Transfer("E1", "Shop", "NL20INGB0001234567", None, 100, "x")
    _refused("duplicate_end_to_end_id", _build, transfers=[one, one])


def test_too_long_remittance_is_refused() -> None:
    bad = [Transfer("E1", "Shop", "NL20INGB0001234567", None, 100, "x" * 141)]
    _refused("remittance_too_long", _build, transfers=bad)


def test_unsupported_version_is_refused() -> None:
    _refused("unsupported_version", _build, version="10")


@pytest.mark.parametrize("version", ["03", "09"])
def test_names_with_accents_and_ampersand_come_out_valid(version: str) -> None:
    xml = _build(version)
    validate_pain001(xml, version)
    root = etree.fromstring(xml)
    ns = _ns(root)
    names = [n.text for n in root.iterfind(".//p:Cdtr/p:Nm", ns)]
    assert names == ["Boekhandel Noel + Zoon", "Cafe Brule", "Fietsen AEro", "Sport"]
    remittances = [n.text for n in root.iterfind(".//p:Ustrd", ns)]
    assert remittances[2] == "Periode EUR 1"
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
    for node in root.iter():
        if isinstance(node.tag, str) and node.text and node.text.strip():
            assert set(node.text) <= allowed, node.text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Chloë & Zoë", "Chloe + Zoe"),
        ("Straße 5; 2e étage", "Strasse 5, 2e etage"),
        ("  many   spaces\nnewline ", "many spaces newline"),
        ("price: 10% #1 *", "price: 10 1"),
        ("mail@shop.nl", "mail(at)shop.nl"),
    ],
)
def test_to_sepa_text(raw: str, clean: str) -> None:
    assert to_sepa_text(raw) == clean


@pytest.mark.parametrize(
    ("cents", "text"),
    [(1, "0.01"), (5, "0.05"), (100, "1.00"), (1250, "12.50"), (123456789, "1234567.89")],
)
def test_amount_round_trip(cents: int, text: str) -> None:
    assert cents_to_xml_amount(cents) == text
    assert xml_amount_to_cents(text) == cents


@pytest.mark.parametrize("text", ["12.5", "12", "1e3", "-1.00", "12.500", ""])
def test_xml_amount_without_two_decimals_is_refused(text: str) -> None:
    _refused("invalid_amount", xml_amount_to_cents, text)
