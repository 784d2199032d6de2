"""Ed25519 keyring: signing keys for QR tokens and ledger checkpoints, with rotation.

Layout of the keyring directory (mode 0700)::

    keys.json               public metadata of every key (atomic rewrite)
    {purpose}-{kid}.key     raw 32-byte Ed25519 seed, base64 (hex also read), mode 0600
    .lock                   advisory lock held while the keyring is changed

A key is valid at time ``t`` when ``not_before <= t`` and (``not_after`` is open or
``t < not_after``). The newest valid key signs; every valid key verifies. Rotation
shortens the old key's ``not_after`` to ``now + overlap`` so codes already shown keep
verifying. Private key files are written once (``O_EXCL``) and never rewritten.

This is a platform module: it imports no Flask and no actor package.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import fcntl
import hmac
import json
import logging
import os
import secrets
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey, VerifyKey

log = logging.getLogger(__name__)

# "pass": the seed keys the MAC of printed passes (kindpakket.keys.Keyring.mac_key);
# "pin": the seed keys the PIN verifiers checked at the till (kindpakket.pinmac).
PURPOSES: frozenset[str] = frozenset({"token", "checkpoint", "pass", "pin"})
DEFAULT_OVERLAP_SECONDS = 7 * 24 * 3600
METADATA_FILE = "keys.json"
LOCK_FILE = ".lock"
FORMAT_VERSION = 1
SEED_BYTES = 32
KID_BYTES = 4


def N_(msgid: str) -> str:
    """Mark ``msgid`` (English) for the translation catalog; it is translated when read."""
    return msgid


class KeyringError(Exception):
    """A keyring failure: a fixed ``code``, an English msgid and its ``details``.

    ``message`` is the text in the reader's language (Dutch in ``kindpakket/i18n/nl``; Flask-Babel
    is imported only when it is read, so this module imports no Flask); ``str(error)`` is
    ``code: English text``, for logs and health checks.
    """

    def __init__(self, code: str, msgid: str, **details: object) -> None:
        self.code = code
        self.msgid = msgid
        self.details = {name: str(value) for name, value in details.items()}  # paths, errors
        super().__init__(f"{code}: {msgid % self.details}")

    @property
    def message(self) -> str:
        """Return the message in the language in force (``flask_babel.force_locale``)."""
        from flask_babel import gettext

        return gettext(self.msgid, **self.details)


def utcnow() -> datetime:
    """Return the current UTC time truncated to whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def _iso(value: datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 UTC with a ``Z`` suffix."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp written by :func:`_iso`."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp without time zone")
    return parsed.astimezone(UTC)


def _moment(now: datetime | None) -> datetime:
    """Return ``now`` (or the current time) in UTC, whole seconds, as stored in keys.json."""
    return _checked_utc(now).replace(microsecond=0) if now is not None else utcnow()


def _checked_utc(at: datetime) -> datetime:
    """Refuse naive datetimes: validity is always compared in UTC."""
    if at.tzinfo is None:
        raise ValueError("datetime must be timezone-aware (UTC)")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one key; never holds private material."""

    purpose: str
    kid: str  # 8 lowercase hex chars (4 random bytes)
    public_key: bytes  # 32-byte Ed25519 public key
    created_at: datetime
    not_before: datetime
    not_after: datetime | None = None

    @property
    def kid_bytes(self) -> bytes:
        """Return the key id as the 4 bytes that go into a token."""
        return bytes.fromhex(self.kid)

    @property
    def filename(self) -> str:
        """Return the name of the private key file."""
        return f"{self.purpose}-{self.kid}.key"

    def valid_at(self, at: datetime) -> bool:
        """Tell whether the key may be used at ``at``."""
        at = _checked_utc(at)
        return self.not_before <= at and (self.not_after is None or at < self.not_after)

    def verify_key(self) -> VerifyKey:
        """Return the PyNaCl verify key."""
        return VerifyKey(self.public_key)

    def public_dict(self) -> dict[str, str | None]:
        """Return the JSON-able public description published at ``/api/v1/keys``."""
        return {
            "kid": self.kid,
            "purpose": self.purpose,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
        }

    def _to_json(self) -> dict[str, str | None]:
        """Return the record stored in ``keys.json``."""
        return {**self.public_dict(), "created_at": _iso(self.created_at)}

    @classmethod
    def _from_json(cls, record: dict[str, Any]) -> KeyInfo:
        """Build from a ``keys.json`` record, validating every field."""
        purpose, kid = record["purpose"], record["kid"]
        public_key = base64.b64decode(record["public_key"], validate=True)
        if purpose not in PURPOSES or len(bytes.fromhex(kid)) != KID_BYTES or kid != kid.lower():
            raise ValueError(f"bad purpose or kid: {purpose!r} {kid!r}")
        if len(public_key) != SEED_BYTES:
            raise ValueError("public key is not 32 bytes")
        not_before = _parse_iso(record["not_before"])
        created_at = _parse_iso(record["created_at"])
        if not_before is None or created_at is None:
            raise ValueError("missing created_at or not_before")
        return cls(
            purpose=purpose,
            kid=kid,
            public_key=public_key,
            created_at=created_at,
            not_before=not_before,
            not_after=_parse_iso(record.get("not_after")),
        )


class RedactedSigningKey(SigningKey):
    """A PyNaCl signing key whose str() and repr() never show the seed (nacl's str() does)."""

    label = "unlabelled"

    def __repr__(self) -> str:
        return f"<SigningKey {self.label} (private, redacted)>"

    __str__ = __repr__


def _check_purpose(purpose: str) -> None:
    """Refuse purposes the keyring does not know."""
    if purpose not in PURPOSES:
        raise KeyringError("bad_purpose", N_("unknown key purpose %(purpose)s"), purpose=purpose)


def _parse_seed(text: str) -> bytes:
    """Decode a private key file body: 32 bytes as base64 or hex."""
    body = text.strip()
    try:
        if len(body) == 2 * SEED_BYTES:
            seed = bytes.fromhex(body)
        else:
            seed = base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ValueError("not base64 or hex") from exc
    if len(seed) != SEED_BYTES:
        raise ValueError("seed is not 32 bytes")
    return seed


class Keyring:
    """Ed25519 keys on disk, by purpose, with validity windows and rotation."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._mutex = threading.Lock()
        self._cache_stamp: tuple[int, int, int] | None = None
        self._cache: builtins.list[KeyInfo] = []
        self._signing_cache: dict[str, RedactedSigningKey] = {}

    def __repr__(self) -> str:
        return f"Keyring({str(self.directory)!r})"

    # -- reading -------------------------------------------------------------

    def list(self) -> builtins.list[KeyInfo]:
        """Return every key, oldest first."""
        return builtins.list(self._load())

    def active(self, purpose: str, at: datetime | None = None) -> builtins.list[KeyInfo]:
        """Return the keys of ``purpose`` valid at ``at`` (default now), newest first."""
        _check_purpose(purpose)
        when = _checked_utc(at) if at is not None else utcnow()
        # Newest first; keys.json is append-only in order, so position breaks ties.
        keys = [
            (k.not_before, k.created_at, position, k)
            for position, k in enumerate(self._load())
            if k.purpose == purpose and k.valid_at(when)
        ]
        return [k for *_, k in sorted(keys, key=lambda row: row[:3], reverse=True)]

    def signing_key(self, purpose: str, at: datetime | None = None) -> tuple[KeyInfo, SigningKey]:
        """Return the newest key valid now together with its private signing key."""
        candidates = self.active(purpose, at)
        if not candidates:
            raise KeyringError("no_key", N_("no valid %(purpose)s key"), purpose=purpose)
        info = candidates[0]
        return info, self._private(info)

    def verify_key(self, purpose: str, kid: str, at: datetime) -> VerifyKey | None:
        """Return the verify key ``kid`` of ``purpose`` if it is valid at ``at``, else None."""
        _check_purpose(purpose)
        at = _checked_utc(at)
        for info in self._load():
            if info.purpose == purpose and info.kid == kid.lower() and info.valid_at(at):
                return info.verify_key()
        return None

    def public_keys(
        self, purpose: str, at: datetime | None = None
    ) -> builtins.list[dict[str, str | None]]:
        """Return the public keys of ``purpose`` not yet expired at ``at`` (default now)."""
        _check_purpose(purpose)
        when = _checked_utc(at) if at is not None else utcnow()
        return [
            info.public_dict()
            for info in self._load()
            if info.purpose == purpose and (info.not_after is None or when < info.not_after)
        ]

    def mac_key(self, purpose: str, kid: str | None = None) -> tuple[str, bytes]:
        """Return ``(kid, 32-byte MAC key)`` derived from a key's private seed.

        Without ``kid``: the newest valid key (made on first use). With ``kid``: that key even
        after rotation or retirement, since what it authenticates (a printed pass) outlives
        it; blocking what was printed is the database's job. None found: KeyringError.
        """
        _check_purpose(purpose)
        if kid is None:
            info = self.ensure(purpose)
        else:
            found = [k for k in self._load() if k.purpose == purpose and k.kid == kid.lower()]
            if not found:
                raise KeyringError("no_key", N_("there is no key %(kid)s"), kid=kid)
            info = found[0]
        seed = self._private(info).encode()
        return info.kid, hmac.new(seed, b"kindpakket mac " + purpose.encode(), sha256).digest()

    # -- changing ------------------------------------------------------------

    def ensure(self, purpose: str) -> KeyInfo:
        """Return the current signing key info, generating a first key if none is valid."""
        _check_purpose(purpose)
        with self._locked():
            current = self.active(purpose)
            if current:
                return current[0]
            return self._add(purpose, utcnow())

    def generate(
        self, purpose: str, *, force: bool = False, now: datetime | None = None
    ) -> KeyInfo:
        """Create a key; refuse when a valid key exists for ``purpose`` unless ``force``."""
        _check_purpose(purpose)
        when = _moment(now)
        with self._locked():
            if self.active(purpose, when) and not force:
                raise KeyringError(
                    "key_exists",
                    N_("there is a valid %(purpose)s key already; use rotate"),
                    purpose=purpose,
                )
            return self._add(purpose, when)

    def rotate(
        self,
        purpose: str,
        overlap_seconds: int = DEFAULT_OVERLAP_SECONDS,
        *,
        now: datetime | None = None,
    ) -> KeyInfo:
        """Make a new signing key; keep older keys verifying for ``overlap_seconds``."""
        _check_purpose(purpose)
        if overlap_seconds < 0:
            raise ValueError("overlap_seconds must be >= 0")
        when = _moment(now)
        with self._locked():
            if not self.active(purpose, when):
                raise KeyringError(
                    "no_key",
                    N_("there is no valid %(purpose)s key to rotate; use generate"),
                    purpose=purpose,
                )
            cutoff = when + timedelta(seconds=overlap_seconds)
            keys = [
                self._shorten(k, when, cutoff) if k.purpose == purpose else k for k in self._load()
            ]
            new = self._new_key(purpose, when)
            self._write_metadata([*keys, new])
            log.info(
                "rotated %s key: new kid %s, old keys valid until %s", purpose, new.kid, cutoff
            )
            return new

    def retire(self, purpose: str, kid: str, *, now: datetime | None = None) -> KeyInfo:
        """End a key's validity now (e.g. after a leak); tokens it signed stop verifying."""
        _check_purpose(purpose)
        when = _moment(now)
        with self._locked():
            keys = self._load()
            match = [k for k in keys if k.purpose == purpose and k.kid == kid.lower()]
            if not match:
                raise KeyringError("no_key", N_("there is no key %(kid)s"), kid=kid)
            retired = self._shorten(match[0], when, when)
            self._write_metadata([retired if k is match[0] else k for k in keys])
            log.warning("retired %s key %s at %s", purpose, kid, when)
            return retired

    # -- internals -----------------------------------------------------------

    @staticmethod
    def _shorten(info: KeyInfo, when: datetime, cutoff: datetime) -> KeyInfo:
        """Cap the not_after of a key of the rotated purpose that is still valid at ``when``."""
        if not info.valid_at(when) or (info.not_after is not None and info.not_after <= cutoff):
            return info
        return replace(info, not_after=cutoff)

    def _add(self, purpose: str, when: datetime) -> KeyInfo:
        """Create a key and append it to the metadata (caller holds the lock)."""
        info = self._new_key(purpose, when)
        self._write_metadata([*self._load(), info])
        log.info("generated %s key %s", purpose, info.kid)
        return info

    def _new_key(self, purpose: str, when: datetime) -> KeyInfo:
        """Write a fresh private key file and return its public info."""
        self._ensure_directory()
        existing = {k.kid for k in self._load()}
        kid = secrets.token_hex(KID_BYTES)
        while kid in existing:  # 1 in 4 billion; keep kids unique within the keyring
            kid = secrets.token_hex(KID_BYTES)
        signing = SigningKey.generate()
        info = KeyInfo(
            purpose=purpose,
            kid=kid,
            public_key=bytes(signing.verify_key),
            created_at=when,
            not_before=when,
        )
        path = self.directory / info.filename
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(base64.b64encode(bytes(signing)).decode("ascii") + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return info

    def _ensure_directory(self) -> None:
        """Create the keyring directory with mode 0700 if it is missing."""
        if not self.directory.exists():
            self.directory.mkdir(mode=0o700, parents=True)
            os.chmod(self.directory, 0o700)  # mkdir mode is masked by the umask

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise changes across threads and processes."""
        self._ensure_directory()
        with self._mutex:
            fd = os.open(self.directory / LOCK_FILE, os.O_CREAT | os.O_WRONLY, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _write_metadata(self, keys: builtins.list[KeyInfo]) -> None:
        """Atomically replace ``keys.json`` with ``keys``."""
        document = {"version": FORMAT_VERSION, "keys": [k._to_json() for k in keys]}
        fd, tmp = tempfile.mkstemp(prefix=".keys-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(document, fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.directory / METADATA_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _load(self) -> builtins.list[KeyInfo]:
        """Read ``keys.json`` again only when the file changed (another process rotated a key).

        Every write replaces the file (``_write_metadata``: a new inode), so its inode, size
        and modification time tell a change without reading it: every token check asks.
        """
        path = self.directory / METADATA_FILE
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._cache_stamp, self._cache = None, []
            return []
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp != self._cache_stamp:
            self._cache = self._parse_metadata(path, path.read_bytes())
            self._cache_stamp = stamp
        return self._cache

    @staticmethod
    def _parse_metadata(path: Path, raw: bytes) -> builtins.list[KeyInfo]:
        """Parse and validate the bytes of ``keys.json``."""
        try:
            document = json.loads(raw.decode("utf-8"))
            if document.get("version") != FORMAT_VERSION:
                raise ValueError(f"unsupported version {document.get('version')!r}")
            return [KeyInfo._from_json(record) for record in document["keys"]]
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise KeyringError(
                "bad_keyring", N_("%(path)s is unreadable: %(reason)s"), path=path, reason=exc
            ) from exc

    def _private(self, info: KeyInfo) -> SigningKey:
        """Load (once) the private key of ``info``, checking permissions and the public key."""
        cached = self._signing_cache.get(info.kid)
        if cached is not None:
            return cached
        path = self.directory / info.filename
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            raise KeyringError(
                "bad_keyfile", N_("%(path)s is missing or unreadable"), path=path
            ) from exc
        with os.fdopen(fd, "r", encoding="ascii", errors="replace") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyringError(
                    "insecure_permissions",
                    N_("others may read %(path)s (mode %(mode)s): chmod 0600"),
                    path=path,
                    mode=f"{stat.S_IMODE(mode):o}",
                )
            body = fh.read(256)
        try:
            signing = RedactedSigningKey(_parse_seed(body))
        except ValueError as exc:
            raise KeyringError(
                "bad_keyfile", N_("%(path)s holds no key: %(reason)s"), path=path, reason=exc
            ) from None
        if bytes(signing.verify_key) != info.public_key:
            raise KeyringError(
                "bad_keyfile",
                N_("%(path)s does not match its public key in keys.json"),
                path=path,
            )
        signing.label = f"{info.purpose}/{info.kid}"
        self._signing_cache[info.kid] = signing
        return signing
