"""Status reports and statements as Dutch banks send them, written with lxml (tests, benchmarks).

Every file is checked against its official XSD before it is handed out, so a test or a
benchmark that feeds one to the import knows the bank could have sent it; only
``check=False`` (for a format whose XSD no installed package ships, such as
pain.002.001.10) skips that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from admin.settlement.bankxml import ISO, parser, xsd
from admin.settlement.sepa import cents_to_xml_amount

DEFAULT_IBAN = "NL91ABNA0417164300"  # the account of rows.municipality()


@dataclass
class Tx:
    """A transaction inside an entry (E2E id, amount, return reason)."""

    e2e: str | None
    cents: int | None
    reason: str | None = None


@dataclass
class Ntry:
    """A statement entry; ``txs`` empty for a batch booked as one line without details."""

    cents: int
    credit: bool = False
    ref: str = "REF-1"
    booked: date = date(2026, 3, 12)
    status: str = "BOOK"
    msg_id: str | None = None
    pmt_inf_id: str | None = None
    txs: list[Tx] = field(default_factory=list)
    text: str | None = None
    subfamily: str = "ESCT"


def _el(parent: etree._Element, name: str, text: object = None, **attrib: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{parent.nsmap[None]}}}{name}", attrib)
    if text is not None:
        node.text = str(text)
    return node


def _path(parent: etree._Element, path: str, text: object) -> etree._Element:
    *heads, last = path.split("/")
    for head in heads:
        parent = _el(parent, head)
    return _el(parent, last, text)


def _amount(parent: etree._Element, name: str, cents: int) -> None:
    _el(parent, name, cents_to_xml_amount(cents), Ccy="EUR")


def _finish(root: etree._Element, schema: str, *, check: bool = True) -> bytes:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if check:
        checker = xsd(schema)
        parsed = etree.fromstring(body, parser())
        assert checker.validate(parsed), (schema, checker.error_log.last_error)
    return bytes(body)


def _doc(schema: str) -> etree._Element:
    return etree.Element(f"{{{ISO}{schema}}}Document", nsmap={None: f"{ISO}{schema}"})


def statement(
    entries: Sequence[Ntry],
    *,
    version: str = "02",
    kind: str = "053",
    msg_id: str = "STMT-2026-03-12",
    iban: str = DEFAULT_IBAN,
    check: bool = True,
) -> bytes:
    """Return a camt.053 (or camt.054 with ``kind="054"``) of the account ``iban``."""
    schema = f"camt.{kind}.001.{version}"
    root = _doc(schema)
    message = _el(root, "BkToCstmrStmt" if kind == "053" else "BkToCstmrDbtCdtNtfctn")
    header = _el(message, "GrpHdr")
    _el(header, "MsgId", msg_id)
    _el(header, "CreDtTm", "2026-03-12T18:00:00")
    report = _el(message, "Stmt" if kind == "053" else "Ntfctn")
    _el(report, "Id", f"{msg_id}-1")
    _el(report, "CreDtTm", "2026-03-12T18:00:00")
    account = _el(report, "Acct")
    _path(account, "Id/IBAN", iban)
    _el(account, "Ccy", "EUR")
    if kind == "053":
        for code in ("OPBD", "CLBD"):
            balance = _el(report, "Bal")
            _path(balance, "Tp/CdOrPrtry/Cd", code)
            _amount(balance, "Amt", 10_000_000)
            _el(balance, "CdtDbtInd", "CRDT")
            _path(balance, "Dt/Dt", "2026-03-12")
    for entry in entries:
        _entry(report, entry, version)
    return _finish(root, schema, check=check)


def _entry(report: etree._Element, e: Ntry, version: str) -> None:
    node = _el(report, "Ntry")
    _amount(node, "Amt", e.cents)
    _el(node, "CdtDbtInd", "CRDT" if e.credit else "DBIT")
    if version == "02":
        _el(node, "Sts", e.status)
    else:
        _path(node, "Sts/Cd", e.status)
    _path(node, "BookgDt/Dt", e.booked.isoformat())
    _path(node, "ValDt/Dt", e.booked.isoformat())
    _el(node, "AcctSvcrRef", e.ref)
    code = _el(node, "BkTxCd")
    domain = _el(code, "Domn")
    _el(domain, "Cd", "PMNT")
    family = _el(domain, "Fmly")
    _el(family, "Cd", "RCDT" if e.credit else "ICDT")
    _el(family, "SubFmlyCd", e.subfamily)
    if e.msg_id or e.pmt_inf_id or e.txs:
        details = _el(node, "NtryDtls")
        if e.msg_id or e.pmt_inf_id:
            batch = _el(details, "Btch")
            if e.msg_id:
                _el(batch, "MsgId", e.msg_id)
            if e.pmt_inf_id:
                _el(batch, "PmtInfId", e.pmt_inf_id)
            _el(batch, "NbOfTxs", max(1, len(e.txs)))
        for tx in e.txs:
            _tx(details, tx, e, version)
    if e.text:
        _el(node, "AddtlNtryInf", e.text)


def _tx(details: etree._Element, tx: Tx, e: Ntry, version: str) -> None:
    node = _el(details, "TxDtls")
    refs = _el(node, "Refs")
    if e.msg_id:
        _el(refs, "MsgId", e.msg_id)
    _el(refs, "AcctSvcrRef", f"{e.ref}-{tx.e2e}"[:35])
    if e.pmt_inf_id:
        _el(refs, "PmtInfId", e.pmt_inf_id)
    _el(refs, "EndToEndId", tx.e2e or "NOTPROVIDED")
    if tx.cents is not None:
        if version == "02":
            _amount(_el(_el(node, "AmtDtls"), "TxAmt"), "Amt", tx.cents)
        else:
            _amount(node, "Amt", tx.cents)
            _el(node, "CdtDbtInd", "CRDT" if e.credit else "DBIT")
    if tx.reason:
        _path(_el(node, "RtrInf"), "Rsn/Cd", tx.reason)


@dataclass
class TxStatus:
    """One transaction's status in a pain.002 (RJCT with a reason, ACCP, ACSC...)."""

    e2e: str
    status: str
    reason: str | None = None
    cents: int | None = None


def status_report(
    original_msg_id: str,
    *,
    group: str | None = None,
    group_reason: str | None = None,
    txs: Sequence[TxStatus] = (),
    version: str = "03",
    msg_id: str = "STS-2026-03-11",
    check: bool = True,
) -> bytes:
    """Return a pain.002 about our pain.001 ``original_msg_id`` (its PmtInfId is the same)."""
    schema = f"pain.002.001.{version}"
    root = _doc(schema)
    report = _el(root, "CstmrPmtStsRpt")
    header = _el(report, "GrpHdr")
    _el(header, "MsgId", msg_id)
    _el(header, "CreDtTm", "2026-03-11T09:30:00")
    original = _el(report, "OrgnlGrpInfAndSts")
    _el(original, "OrgnlMsgId", original_msg_id)
    _el(original, "OrgnlMsgNmId", "pain.001.001.03")
    if group:
        _el(original, "GrpSts", group)
        if group_reason:
            _path(_el(original, "StsRsnInf"), "Rsn/Cd", group_reason)
    if txs:
        block = _el(report, "OrgnlPmtInfAndSts")
        _el(block, "OrgnlPmtInfId", original_msg_id)
        for t in txs:
            node = _el(block, "TxInfAndSts")
            _el(node, "OrgnlEndToEndId", t.e2e)
            _el(node, "TxSts", t.status)
            if t.reason:
                _path(_el(node, "StsRsnInf"), "Rsn/Cd", t.reason)
            if t.cents is not None:
                _amount(_el(_el(node, "OrgnlTxRef"), "Amt"), "InstdAmt", t.cents)
    return _finish(root, schema, check=check)
