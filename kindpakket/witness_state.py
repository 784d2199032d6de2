"""A witness's own side: its state file, its HTTP client of the ledger, and one round.

Runs with no access to the product's database: everything the witness knows is in a small
JSON state file (mode 0600) holding its Ed25519 key, the log's origin and verifier keys,
the last checkpoint it co-signed, and any alarm (with the two signed notes that prove it).
Each round reads the ledger's public API, checks the newest checkpoint against the state,
persists the new state, and only then publishes the cosignature.
"""

from __future__ import annotations

import base64
import fcntl
import http.client
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import nacl.signing

from ledger import checkpoint as ckpt
from ledger import witness as wit

FORMAT = "kindpakket-witness/1"
CHECKPOINT_PATH = "/api/v1/ledger/checkpoints/latest"
CONSISTENCY_PATH = "/api/v1/ledger/consistency"
COSIGNATURES_PATH = "/api/v1/ledger/cosignatures"


class StateError(Exception):
    """The state file is missing, malformed, or holds an alarm."""


class AlarmRaised(StateError):
    """An earlier round caught the ledger misbehaving; nothing is co-signed until cleared."""


class TransportError(Exception):
    """The ledger could not be reached or gave an answer the witness cannot use."""


@dataclass(frozen=True)
class WitnessState:
    """Everything a witness keeps between rounds."""

    name: str
    key: nacl.signing.SigningKey
    view: wit.WitnessView
    published_size: int | None = None  # the last size whose cosignature the ledger took
    alarm: dict[str, Any] | None = field(default=None)

    @property
    def vkey(self) -> str:
        """Return this witness's cosignature vkey (for KINDPAKKET_WITNESS_VKEYS)."""
        return wit.cosigner_vkey(self.name, bytes(self.key.verify_key))

    def to_json(self) -> dict[str, Any]:
        """Return the state as JSON-able values."""
        v = self.view
        return {
            "format": FORMAT,
            "name": self.name,
            "key": base64.b64encode(bytes(self.key)).decode("ascii"),
            "vkey": self.vkey,
            "origin": v.origin,
            "log_vkeys": list(v.log_keys),
            "size": v.size,
            "root": base64.b64encode(v.root).decode("ascii"),
            "note": v.note,
            "cosigned_at": v.cosigned_at,
            "published_size": self.published_size,
            "alarm": self.alarm,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WitnessState:
        """Read a state written by :meth:`to_json`."""
        if data.get("format") != FORMAT:
            raise StateError(f"not a witness state file (format {data.get('format')!r})")
        try:
            view = wit.WitnessView(
                origin=data["origin"],
                log_keys=tuple(data["log_vkeys"]),
                size=int(data["size"]),
                root=base64.b64decode(data["root"], validate=True),
                note=data["note"],
                cosigned_at=int(data["cosigned_at"]),
            )
            key = nacl.signing.SigningKey(base64.b64decode(data["key"], validate=True))
            return cls(data["name"], key, view, data.get("published_size"), data.get("alarm"))
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"state file is damaged: {exc!r}") from None


def new_state(name: str, origin: str, log_vkeys: list[str]) -> WitnessState:
    """Return a fresh state with a new Ed25519 key, having co-signed nothing yet."""
    wit.cosigner_key_id(name, bytes(32))  # refuses a bad name
    for v in log_vkeys:
        ckpt.parse_vkey(v)  # refuses a bad log key
    view = wit.WitnessView(origin=origin, log_keys=tuple(log_vkeys))
    return WitnessState(name, nacl.signing.SigningKey.generate(), view)


def load_state(path: Path) -> WitnessState:
    """Read the state file."""
    try:
        return WitnessState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise StateError(f"no state file at {path}; run `kindpakket witness init`") from None
    except json.JSONDecodeError as exc:
        raise StateError(f"state file {path} is not JSON: {exc}") from None


def save_state(path: Path, state: WitnessState, *, durable: bool = True) -> None:
    """Write the state atomically (temporary file, rename), mode 0600.

    Args:
        path: the state file.
        state: what to write.
        durable: fsync the file and its directory before returning (needed before a
            cosignature leaves; not for the "published" marker, whose loss only repeats an
            idempotent POST).
    """
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state.to_json(), fh, indent=2)
            fh.write("\n")
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` so two rounds never share one old view."""
    with open(f"{path}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class LedgerClient:
    """The ledger's public API over one kept-alive HTTP(S) connection."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def close(self) -> None:
        """Close the kept-alive connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one request and return ``(status, JSON body)``; reconnect once if dropped."""
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, self._prefix + path, body=payload, headers=headers)
                answer = conn.getresponse()
                raw = answer.read()
                break
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                if attempt == 2:
                    raise TransportError(f"{method} {path}: {exc!r}") from None
        try:
            return answer.status, json.loads(raw or b"null")
        except json.JSONDecodeError:
            raise TransportError(f"{method} {path}: answer {answer.status} is not JSON") from None

    def latest_note(self) -> str | None:
        """Return the newest signed checkpoint note, or None when there is none yet."""
        status, data = self.request("GET", CHECKPOINT_PATH)
        if status == 404:
            return None
        if status != 200 or not isinstance(data, dict) or not isinstance(data.get("note"), str):
            raise TransportError(f"checkpoint: unexpected answer {status}: {data!r}")
        note: str = data["note"]
        return note

    def consistency(self, old: int, new: int) -> list[bytes]:
        """Return the consistency proof between two tree sizes."""
        status, data = self.request(
            "GET", f"{CONSISTENCY_PATH}?{urlencode({'old': old, 'new': new})}"
        )
        if status != 200 or not isinstance(data, dict) or not isinstance(data.get("proof"), list):
            raise TransportError(f"consistency {old}->{new}: answer {status}: {data!r}")
        try:
            return [bytes.fromhex(h) for h in data["proof"]]
        except (TypeError, ValueError):
            raise TransportError(f"consistency {old}->{new}: proof is not hex") from None

    def publish(self, size: int, line: str) -> dict[str, Any]:
        """Hand a cosignature to the ledger; return its answer."""
        status, data = self.request("POST", COSIGNATURES_PATH, {"size": size, "cosignature": line})
        if status != 200 or not isinstance(data, dict):
            raise TransportError(f"publishing the cosignature of {size}: {status}: {data!r}")
        return data


@dataclass(frozen=True)
class RoundResult:
    """What one round did: ``cosigned``, ``unchanged`` or ``no_checkpoint``."""

    outcome: str
    size: int | None = None
    line: str | None = None


def witness_round(path: Path, client: LedgerClient, now: int | None = None) -> RoundResult:
    """Fetch the newest checkpoint, check it, persist, co-sign and publish.

    Raises:
        StateError: the state file is unusable (``AlarmRaised``: it holds an alarm).
        ledger.witness.WitnessError: the checkpoint was refused; when ``.misbehaviour`` the
            alarm and both signed notes are now in the state file.
        TransportError: the ledger could not be reached or answered nonsense.
    """
    with locked(path):
        state = load_state(path)
        if state.alarm:
            raise AlarmRaised(f"raised earlier, nothing co-signed since: {state.alarm['message']}")
        note = client.latest_note()
        if note is None:
            return RoundResult("no_checkpoint")
        view = state.view
        cp = wit.verify_log_checkpoint(view, note)
        if (cp.size, cp.root) == (view.size, view.root) and state.published_size == cp.size:
            return RoundResult("unchanged", cp.size)
        need_proof = 0 < view.size < cp.size
        proof = client.consistency(view.size, cp.size) if need_proof else []
        stamp = int(time.time()) if now is None else now
        try:
            new_view, co = wit.witness_checkpoint(view, note, proof, state.name, state.key, stamp)
        except wit.WitnessError as exc:
            if exc.misbehaviour:
                alarm = {
                    "code": exc.code,
                    "message": exc.message,
                    "seen_at": stamp,
                    "cosigned_note": view.note,
                    "offered_note": note,
                    "proof": [h.hex() for h in proof],
                }
                save_state(path, replace(state, alarm=alarm))
            raise
        state = replace(state, view=new_view)
        save_state(path, state)  # persist before the cosignature leaves this process
        client.publish(cp.size, co.line())
        save_state(path, replace(state, published_size=cp.size), durable=False)
        return RoundResult("cosigned", cp.size, co.line())
