// kpproof.js: check ledger receipts in the browser, trusting no server.
//
// Browser twin of ledger/merkle.py and ledger/checkpoint.py (pure ES module, no
// dependencies, no build step). Verifies RFC 9162 inclusion proofs (SHA-256 via
// crypto.subtle.digest) and C2SP signed-note checkpoints (Ed25519 via WebCrypto; needs
// a secure context: https or http://127.0.0.1).
//
// Errors are thrown as KpProofError with a fixed `code`, the same codes as the Python side:
//   bad_size, index_out_of_range, bad_hash, bad_proof_length, root_mismatch   (proofs)
//   bad_format, bad_key, unknown_key, bad_signature, wrong_origin            (checkpoints)
// verifyInclusion() and verifyConsistency() return a boolean; verifyReceipt() returns
// {ok, code, ...}; checkConsistency() throws.

const SIG_PREFIX = "\u2014 ";
const ALG_ED25519 = 0x01;
const MAX_SIGNATURES = 100;
const encoder = new TextEncoder();

/** A refused proof or checkpoint; `code` is stable, `message` is for people. */
export class KpProofError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "KpProofError";
    this.code = code;
  }
}

/** Decode lowercase or uppercase hex into bytes. */
export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new KpProofError("bad_hash", "not a hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** Encode bytes as lowercase hex. */
export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Encode bytes as standard base64 with padding. */
export function bytesToB64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Decode canonical standard base64 (padding required) or throw `code`. */
export function b64ToBytes(text, code = "bad_format") {
  let bin;
  try {
    bin = atob(text);
  } catch {
    throw new KpProofError(code, "not base64");
  }
  const out = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  if (bytesToB64(out) !== text) throw new KpProofError(code, "not canonical base64");
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

/** RFC 6962 node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function toBigInt(value, code, what) {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value)) throw new KpProofError(code, `${what} is not an integer`);
  return BigInt(value);
}

function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

function popCount(n) {
  return n.toString(2).split("").filter((c) => c === "1").length;
}

/** Number of hashes in the inclusion proof of `index` in a tree of `size` leaves. */
export function inclusionProofLength(index, size) {
  const i = BigInt(index);
  const inner = bitLength(i ^ (BigInt(size) - 1n));
  return inner + popCount(i >> BigInt(inner));
}

function asHash(value, what) {
  const bytes = typeof value === "string" ? hexToBytes(value) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new KpProofError("bad_hash", `${what} is not a 32-byte hash`);
  }
  return bytes;
}

/**
 * Check an inclusion proof per RFC 9162 section 2.1.3.2; throw KpProofError on failure.
 * `leaf` is the leaf HASH (Uint8Array), `proof` a list of 32-byte hashes (bytes or hex).
 */
export async function checkInclusion(leaf, index, size, proof, root) {
  const n = toBigInt(size, "bad_size", "size");
  const m = toBigInt(index, "index_out_of_range", "index");
  if (n <= 0n) throw new KpProofError("bad_size", "inclusion needs at least one leaf");
  if (m < 0n || m >= n) throw new KpProofError("index_out_of_range", "index not in tree");
  const leafBytes = asHash(leaf, "leaf");
  const rootBytes = asHash(root, "root");
  if (!Array.isArray(proof)) throw new KpProofError("bad_hash", "proof is not a list");
  const path = proof.map((p) => asHash(p, "proof element"));
  if (path.length !== inclusionProofLength(m, n)) {
    throw new KpProofError("bad_proof_length", "proof has the wrong number of hashes");
  }
  let fn = m;
  let sn = n - 1n;
  let r = leafBytes;
  for (const p of path) {
    if (sn === 0n) throw new KpProofError("bad_proof_length", "proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new KpProofError("bad_proof_length", "proof is too short");
  if (!equalBytes(r, rootBytes)) {
    throw new KpProofError("root_mismatch", "proof does not lead to the root");
  }
}

/**
 * True when `proofHexList` proves that the 32-byte entry hash `entryHashHex` is leaf
 * `index` (zero-based) of the tree of `size` leaves with root `rootBytes`.
 */
export async function verifyInclusion(entryHashHex, index, size, proofHexList, rootBytes) {
  try {
    const entry = asHash(entryHashHex, "entry hash");
    await checkInclusion(await leafHash(entry), index, size, proofHexList, rootBytes);
    return true;
  } catch (err) {
    if (err instanceof KpProofError) return false;
    throw err;
  }
}

/** Number of hashes in the consistency proof from `oldSize` to `newSize` leaves. */
export function consistencyProofLength(oldSize, newSize) {
  const m = BigInt(oldSize);
  const n = BigInt(newSize);
  if (m === 0n || m === n) return 0;
  const index = m - 1n;
  const inner = bitLength(index ^ (n - 1n));
  const border = popCount(index >> BigInt(inner));
  const shift = bitLength(m & -m) - 1;
  const seed = m === 1n << BigInt(shift) ? 0 : 1;
  return seed + (inner - shift) + border;
}

/**
 * Check a consistency proof per RFC 9162 section 2.1.4.2; throw KpProofError on failure.
 * The tree of `newSize` leaves with root `newRoot` must extend the tree of `oldSize` leaves
 * with root `oldRoot`. Edge cases as ledger/merkle.py: from size 0 the proof is empty; at
 * equal sizes the proof is empty and the roots are equal.
 */
export async function checkConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  const m = toBigInt(oldSize, "bad_size", "old size");
  const n = toBigInt(newSize, "bad_size", "new size");
  if (m < 0n || n < m) throw new KpProofError("bad_size", `cannot go from ${m} to ${n}`);
  const first = asHash(oldRoot, "old root");
  const second = asHash(newRoot, "new root");
  if (!Array.isArray(proof)) throw new KpProofError("bad_hash", "proof is not a list");
  const path = proof.map((p) => asHash(p, "proof element"));
  if (path.length !== consistencyProofLength(m, n)) {
    throw new KpProofError("bad_proof_length", "consistency proof has the wrong length");
  }
  if (m === 0n) return;
  if (m === n) {
    if (!equalBytes(first, second)) {
      throw new KpProofError("root_mismatch", "same size but different roots");
    }
    return;
  }
  if ((m & (m - 1n)) === 0n) path.unshift(first);
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new KpProofError("bad_proof_length", "consistency proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new KpProofError("bad_proof_length", "consistency proof is too short");
  if (!equalBytes(fr, first)) {
    throw new KpProofError("root_mismatch", "consistency proof does not lead to the old root");
  }
  if (!equalBytes(sr, second)) {
    throw new KpProofError("root_mismatch", "consistency proof does not lead to the new root");
  }
}

/** True when `proof` shows the `newSize` tree extends the `oldSize` tree (see above). */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  try {
    await checkConsistency(oldSize, newSize, oldRoot, newRoot, proof);
    return true;
  } catch (err) {
    if (err instanceof KpProofError) return false;
    throw err;
  }
}

function checkLine(line, what) {
  // eslint-disable-next-line no-control-regex
  if (!line || /[\u0000-\u001f\u007f]/.test(line)) {
    throw new KpProofError("bad_format", `${what} is empty or holds control characters`);
  }
}

function validKeyName(name) {
  // eslint-disable-next-line no-control-regex
  return !!name && !name.includes("+") && !/[\s\u0000-\u001f]/.test(name);
}

function parseSignatureLine(line) {
  if (!line.startsWith(SIG_PREFIX)) {
    throw new KpProofError("bad_format", "signature line does not start with an em dash");
  }
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) throw new KpProofError("bad_format", "signature line has no signature");
  const keyName = rest.slice(0, space);
  if (!validKeyName(keyName)) throw new KpProofError("bad_format", "invalid key name");
  const blob = b64ToBytes(rest.slice(space + 1));
  if (blob.length < 5) throw new KpProofError("bad_format", "signature is too short");
  return { keyName, keyId: blob.slice(0, 4), signature: blob.slice(4) };
}

/** Split a signed note into {body, signatures} without verifying anything. */
export function splitNote(noteText) {
  if (typeof noteText !== "string") throw new KpProofError("bad_format", "note is not text");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(noteText)) {
    throw new KpProofError("bad_format", "note holds control characters");
  }
  if (!noteText.endsWith("\n")) throw new KpProofError("bad_format", "no final newline");
  const cut = noteText.lastIndexOf("\n\n");
  if (cut < 0) throw new KpProofError("bad_format", "note has no signature block");
  const sigBlock = noteText.slice(cut + 2);
  const sigLines = sigBlock ? sigBlock.slice(0, -1).split("\n") : [];
  if (sigLines.length === 0) throw new KpProofError("bad_format", "note has no signatures");
  if (sigLines.length > MAX_SIGNATURES) {
    throw new KpProofError("bad_format", "note has too many signatures");
  }
  return { body: noteText.slice(0, cut + 1), signatures: sigLines.map(parseSignatureLine) };
}

/**
 * Parse a signed checkpoint note without verifying it.
 * Returns {origin, size (Number), root (Uint8Array), extensions, body, signatures}.
 */
export function parseCheckpoint(noteText) {
  const { body, signatures } = splitNote(noteText);
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) throw new KpProofError("bad_format", "need origin, size and root");
  const [origin, sizeText, rootText, ...extensions] = lines;
  checkLine(origin, "origin");
  extensions.forEach((line) => checkLine(line, "extension line"));
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new KpProofError("bad_format", "tree size is not a plain decimal number");
  }
  const root = b64ToBytes(rootText);
  if (root.length !== 32) throw new KpProofError("bad_format", "root is not a 32-byte hash");
  return { origin, size: Number(sizeText), root, extensions, body, signatures };
}

/** Signed-note key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export async function keyId(name, publicKey) {
  const prefix = encoder.encode(name + "\n");
  const digest = await sha256(concat(prefix, Uint8Array.of(ALG_ED25519), publicKey));
  return digest.slice(0, 4);
}

function keyFromVkey(text) {
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new KpProofError("bad_key", "vkey must be name+id+key");
  const data = b64ToBytes(text.slice(second + 1), "bad_key");
  if (data.length !== 33 || data[0] !== ALG_ED25519) {
    throw new KpProofError("bad_key", "vkey is not an Ed25519 key");
  }
  return { name: text.slice(0, first), idHex: text.slice(first + 1, second), raw: data.slice(1) };
}

function normaliseKey(entry) {
  if (typeof entry === "string") return keyFromVkey(entry);
  if (entry && typeof entry.vkey === "string") return keyFromVkey(entry.vkey);
  const b64 = entry && (entry.public_key_b64 ?? entry.public_key);
  if (typeof b64 !== "string") throw new KpProofError("bad_key", "key has no public key");
  let raw = b64ToBytes(b64, "bad_key");
  if (raw.length === 33 && raw[0] === ALG_ED25519) raw = raw.slice(1);
  if (raw.length !== 32) throw new KpProofError("bad_key", "an Ed25519 key has 32 bytes");
  return { name: entry.name ?? null, idHex: null, raw };
}

/**
 * Verify a signed note and return its text. `publicKeys` holds {name, public_key_b64}
 * objects (raw 32-byte key, or 0x01 || key), vkey strings, or {vkey}. A key without a name
 * matches a signature of any name whose key id fits that key. Keep old keys after a
 * rotation. Signatures by unknown keys are ignored; every one by a known key must verify.
 */
export async function verifyNote(noteText, publicKeys) {
  const { body, signatures } = splitNote(noteText);
  const keys = (publicKeys ?? []).map(normaliseKey);
  const message = encoder.encode(body);
  let verified = false;
  for (const sig of signatures) {
    for (const key of keys) {
      if (key.name !== null && key.name !== sig.keyName) continue;
      const expectedId = await keyId(sig.keyName, key.raw);
      if (key.idHex !== null && key.idHex !== bytesToHex(expectedId)) {
        throw new KpProofError("bad_key", "vkey id does not match its key");
      }
      if (!equalBytes(expectedId, sig.keyId)) continue;
      if (!(await ed25519Verify(key.raw, sig.signature, message))) {
        throw new KpProofError("bad_signature", `signature by ${sig.keyName} fails`);
      }
      verified = true;
    }
  }
  if (!verified) throw new KpProofError("unknown_key", "no signature by a known key");
  return body;
}

/**
 * Return the key names of the note's signatures that are not by one of `publicKeys` (e.g.
 * witness cosignatures), in order, each once. Nothing about them is verified here.
 */
export async function otherSigners(noteText, publicKeys) {
  const { signatures } = splitNote(noteText);
  const keys = (publicKeys ?? []).map(normaliseKey);
  const names = [];
  for (const sig of signatures) {
    let known = false;
    for (const key of keys) {
      if (key.name !== null && key.name !== sig.keyName) continue;
      if (equalBytes(await keyId(sig.keyName, key.raw), sig.keyId)) known = true;
    }
    if (!known && !names.includes(sig.keyName)) names.push(sig.keyName);
  }
  return names;
}

async function ed25519Verify(publicKey, signature, message) {
  if (signature.length !== 64) return false;
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
    "verify",
  ]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

/**
 * Verify a signed checkpoint note against `publicKeys` (see verifyNote); with
 * options.origin, the checkpoint must be for that log. Returns the parsed checkpoint;
 * throws KpProofError otherwise.
 */
export async function verifyCheckpoint(noteText, publicKeys, options = {}) {
  const cp = parseCheckpoint(noteText);
  await verifyNote(noteText, publicKeys);
  if (options.origin !== undefined && cp.origin !== options.origin) {
    throw new KpProofError("wrong_origin", `checkpoint is for ${cp.origin}`);
  }
  return cp;
}

/**
 * Verify a receipt {entry_hash (hex), seq (1-based), proof (hex list), checkpoint (note
 * text), keys}: the checkpoint is signed by a known key and the entry is leaf seq - 1 of
 * its tree. Returns {ok: true, checkpoint, index} or {ok: false, code, message}.
 */
export async function verifyReceipt({ entry_hash, seq, proof, checkpoint, keys, origin }) {
  try {
    const cp = await verifyCheckpoint(checkpoint, keys, origin === undefined ? {} : { origin });
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new KpProofError("index_out_of_range", "seq must be a whole number from 1");
    }
    const index = seq - 1;
    const entry = asHash(entry_hash, "entry hash");
    await checkInclusion(await leafHash(entry), index, cp.size, proof, cp.root);
    return { ok: true, checkpoint: cp, index };
  } catch (err) {
    if (err instanceof KpProofError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
