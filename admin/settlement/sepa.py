"""SEPA credit-transfer files (pain.001.001.03 / .09) for paying shops, checked against the XSD."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sepaxml
from lxml import etree

from kindpakket.iban import canonical_bic, compact_iban
from kindpakket.sepatext import to_sepa_text

SCHEMAS = {"03": "pain.001.001.03", "09": "pain.001.001.09"}
SCHEMA_DIR = Path(sepaxml.__file__).parent / "schemas"
MAX_AMOUNT_CENTS = 99_999_999_999  # EPC rulebook: at most 999 999 999,99 euro per transfer
MAX_NAME = 70  # EPC rulebook limit for names (the XSD of .03 allows 140)
MAX_REMITTANCE = 140
_SEPA_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+]{1,35}")
_AMOUNT = re.compile(r"(\d+)\.(\d{2})")


# Parameters that also travel as details of the refusal (the JSON error body).
DETAIL_KEYS = ("field", "line", "owner", "where")


class SepaError(Exception):
    """A refused SEPA file: a stable ``code`` and its parameters.

    The words for people are :mod:`admin.sepa_messages`'s (in the language in force).
    """

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code}: {params}" if params else code)
        self.code = code
        self.params = params
        self.details = {k: v for k, v in params.items() if k in DETAIL_KEYS}


@dataclass(frozen=True)
class Debtor:
    """The paying account: the municipality's fund account."""

    name: str
    iban: str
    bic: str | None = None


@dataclass(frozen=True)
class Transfer:
    """One payment to a shop; ``end_to_end_id`` travels to the shop's bank statement."""

    end_to_end_id: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    amount_cents: int
    remittance: str


def cents_to_xml_amount(cents: int) -> str:
    """Format positive integer cents as an XML amount, e.g. 1250 -> "12.50"."""
    return f"{cents // 100}.{cents % 100:02d}"


def xml_amount_to_cents(text: str | None) -> int:
    """Parse an XML amount with exactly two decimals ("12.50") to integer cents."""
    match = _AMOUNT.fullmatch((text or "").strip())
    if match is None:
        raise SepaError("invalid_amount", text=text)
    return int(match.group(1)) * 100 + int(match.group(2))


def build_credit_transfer(
    debtor: Debtor,
    transfers: Sequence[Transfer],
    *,
    message_id: str,
    execution_date: date,
    batch_booking: bool = True,
    version: str = "03",
    created_at: datetime,
) -> bytes:
    """Build a validated pain.001 credit-transfer file paying every transfer from the debtor."""
    schema = _schema_name(version)
    _check_identifier(message_id, "message_id")
    if not transfers:
        raise SepaError("empty_batch")
    if execution_date < created_at.date():
        raise SepaError("execution_date_in_past", date=execution_date.isoformat())
    config = _debtor_config(debtor, batch_booking)
    payments = _payments(transfers, execution_date)
    document = sepaxml.SepaTransfer(config, schema=schema, clean=False)
    for payment in payments:
        document.add_payment(payment)
    root = etree.fromstring(bytes(document.export(validate=False)), parser=_parser())
    _stamp(root, message_id, created_at)
    body = etree.tostring(root, xml_declaration=False, encoding="UTF-8", pretty_print=True)
    xml_bytes = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
    validate_pain001(xml_bytes, version)
    _check_amounts_match(root, transfers)
    return bytes(xml_bytes)


def validate_pain001(xml_bytes: bytes, version: str) -> None:
    """Check a pain.001 file against the official XSD and its control sums; raise SepaError."""
    schema = _xsd(_schema_name(version))
    try:
        root = etree.fromstring(xml_bytes, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise SepaError("invalid_xml", reason=str(exc)) from exc
    if not schema.validate(root):
        error = schema.error_log.last_error
        line = f"line {error.line}: {error.message}"
        raise SepaError("schema_invalid", line=line)
    _check_control_sums(root)


def _schema_name(version: str) -> str:
    """Return the pain.001 schema name of a version ("03" or "09")."""
    if version not in SCHEMAS:
        raise SepaError("unsupported_version", version=version)
    return SCHEMAS[version]


@functools.cache
def _xsd(schema: str) -> etree.XMLSchema:
    """Load (once) the official ISO 20022 XSD bundled with sepaxml."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / f"{schema}.xsd")))


def _parser() -> etree.XMLParser:
    """Return an XML parser that resolves no entities and fetches nothing from the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def _check_identifier(value: str, field: str) -> None:
    """Refuse an identifier outside the SEPA identifier rules (1-35 chars, no '//' or edge '/')."""
    if (
        not _SEPA_ID.fullmatch(value)
        or value.startswith("/")
        or value.endswith("/")
        or "//" in value
    ):
        raise SepaError(f"invalid_{field}", value=value, field=field)


def _checked_iban(value: str, owner: str) -> str:
    """Return the compact IBAN, or refuse it naming its owner."""
    try:
        return compact_iban(value)
    except ValueError as exc:
        raise SepaError("invalid_iban", value=value, owner=owner, reason=str(exc)) from exc


def _checked_bic(value: str | None, owner: str) -> str | None:
    """Return the BIC in canonical form (or None), or refuse it naming its owner."""
    if not value:
        return None
    try:
        return canonical_bic(value)
    except ValueError as exc:
        raise SepaError("invalid_bic", value=value, owner=owner, reason=str(exc)) from exc


def _checked_name(value: str, owner: str, *, payer: bool = False) -> str:
    """Return a name transliterated to SEPA characters and cut to 70, refusing an empty one."""
    name = to_sepa_text(value)[:MAX_NAME].strip()
    if not name:
        raise SepaError("invalid_name", owner=owner, payer=payer)
    return name


def _debtor_config(debtor: Debtor, batch_booking: bool) -> dict[str, Any]:
    """Return the sepaxml configuration for the paying account."""
    config: dict[str, Any] = {
        "name": _checked_name(debtor.name, debtor.name, payer=True),
        "IBAN": _checked_iban(debtor.iban, debtor.name),
        "batch": batch_booking,
        "currency": "EUR",
    }
    bic = _checked_bic(debtor.bic, debtor.name)
    if bic:
        config["BIC"] = bic
    return config


def _payments(transfers: Sequence[Transfer], execution_date: date) -> list[dict[str, Any]]:
    """Check every transfer and return them as sepaxml payment dicts."""
    seen: set[str] = set()
    payments = []
    for transfer in transfers:
        _check_identifier(transfer.end_to_end_id, "end_to_end_id")
        if transfer.end_to_end_id in seen:
            raise SepaError("duplicate_end_to_end_id", ref=transfer.end_to_end_id)
        seen.add(transfer.end_to_end_id)
        payments.append(_payment(transfer, execution_date))
    return payments


def _payment(transfer: Transfer, execution_date: date) -> dict[str, Any]:
    """Check one transfer and return it as a sepaxml payment dict."""
    who = f"{transfer.creditor_name} ({transfer.end_to_end_id})"
    _check_amount(transfer.amount_cents, who)
    remittance = to_sepa_text(transfer.remittance)
    if len(remittance) > MAX_REMITTANCE:
        raise SepaError("remittance_too_long", who=who, max=MAX_REMITTANCE)
    payment: dict[str, Any] = {
        "name": _checked_name(transfer.creditor_name, who),
        "IBAN": _checked_iban(transfer.creditor_iban, who),
        "amount": transfer.amount_cents,
        "execution_date": execution_date,
        "description": remittance or transfer.end_to_end_id,
        "endtoend_id": transfer.end_to_end_id,
    }
    bic = _checked_bic(transfer.creditor_bic, who)
    if bic:
        payment["BIC"] = bic
    return payment


def _check_amount(cents: int, who: str) -> None:
    """Refuse an amount that is not a positive integer number of cents within the EPC limit."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise SepaError("amount_not_integer", who=who)
    if cents <= 0:
        raise SepaError("amount_not_positive", who=who)
    if cents > MAX_AMOUNT_CENTS:
        raise SepaError("amount_too_large", who=who)


def _stamp(root: etree._Element, message_id: str, created_at: datetime) -> None:
    """Replace sepaxml's random ids and wall-clock time with the caller's (deterministic output)."""
    ns = {"p": etree.QName(root).namespace}
    root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", ns).text = message_id
    stamp = created_at.replace(microsecond=0).isoformat()
    root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", ns).text = stamp
    blocks = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", ns)
    for block in blocks:
        # One block (batch booking): the message id; else one per transfer: its end-to-end id.
        first_id = block.find("p:CdtTrfTxInf/p:PmtId/p:EndToEndId", ns).text
        block.find("p:PmtInfId", ns).text = message_id if len(blocks) == 1 else first_id
        _mark_missing_debtor_bic(block, ns)


def _mark_missing_debtor_bic(block: etree._Element, ns: dict[str, str]) -> None:
    """Fill an empty debtor agent with Othr/Id NOTPROVIDED, as the EPC guidelines ask."""
    agent = block.find("p:DbtrAgt/p:FinInstnId", ns)
    if agent is not None and len(agent) == 0:
        other = etree.SubElement(agent, f"{{{ns['p']}}}Othr")
        etree.SubElement(other, f"{{{ns['p']}}}Id").text = "NOTPROVIDED"


def _check_control_sums(root: etree._Element) -> None:
    """Check that NbOfTxs and CtrlSum of the group header and every block match the transfers."""
    ns = {"p": etree.QName(root).namespace}
    initiation = root.find("p:CstmrCdtTrfInitn", ns)
    total_count = 0
    total_cents = 0
    for index, block in enumerate(initiation.findall("p:PmtInf", ns), start=1):
        amounts = [
            xml_amount_to_cents(node.text)
            for node in block.findall("p:CdtTrfTxInf/p:Amt/p:InstdAmt", ns)
        ]
        _compare_sums(block, ns, len(amounts), sum(amounts), f"PmtInf {index}")
        total_count += len(amounts)
        total_cents += sum(amounts)
    _compare_sums(initiation.find("p:GrpHdr", ns), ns, total_count, total_cents, "GrpHdr")


def _compare_sums(
    node: etree._Element, ns: dict[str, str], count: int, cents: int, where: str
) -> None:
    """Refuse a block whose stated count or control sum differs from its transfers."""
    stated_count = node.findtext("p:NbOfTxs", namespaces=ns)
    stated_sum = node.findtext("p:CtrlSum", namespaces=ns)
    if stated_sum is None or stated_count != str(count) or xml_amount_to_cents(stated_sum) != cents:
        found = f"{where}: NbOfTxs={stated_count} CtrlSum={stated_sum}"
        expected = f"{count} / {cents_to_xml_amount(cents)}"
        raise SepaError("control_sum_mismatch", found=found, expected=expected, where=where)


def _check_amounts_match(root: etree._Element, transfers: Sequence[Transfer]) -> None:
    """Check that the file pays exactly the requested amounts to the requested references."""
    ns = {"p": etree.QName(root).namespace}
    written = sorted(
        (
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns),
            xml_amount_to_cents(tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)),
        )
        for tx in root.iter(f"{{{ns['p']}}}CdtTrfTxInf")
    )
    wanted = sorted((t.end_to_end_id, t.amount_cents) for t in transfers)
    if written != wanted:
        raise SepaError("amount_mismatch")
