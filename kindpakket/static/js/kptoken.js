// Kindpakket QR payment token: decode and verify in the browser (twin of wallet/tokens.py).
//
// Text: "KP1:" + base32 (RFC 4648, uppercase, no padding) of payload || signature.
// Payload, 29 bytes big-endian: version u8 (=1) | key id 4 bytes | voucher id u64 |
// expires_at u32 (unix seconds) | nonce 12 bytes. Signature: Ed25519 over "KP1" || payload.
// The browser check is for instant feedback only; the server always re-checks and alone
// decides whether the nonce was already used (token_used).

export const PREFIX = 'KP1:';
export const VERSION = 1;
export const PAYLOAD_BYTES = 29;
export const SIGNATURE_BYTES = 64;
export const TOKEN_BYTES = PAYLOAD_BYTES + SIGNATURE_BYTES; // 93
export const BASE32_CHARS = Math.ceil((TOKEN_BYTES * 8) / 5); // 149
export const DEFAULT_SKEW = 5;
export const MAX_TTL = 900;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DOMAIN = new Uint8Array([0x4b, 0x50, 0x31]); // "KP1"
const MAX_INPUT_CHARS = 4 * (PREFIX.length + BASE32_CHARS);

/** A refused token; `code` is one of not_a_token, bad_version, unknown_key, bad_signature,
 * token_expired, token_not_yet_valid, crypto_unavailable. */
export class TokenError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'TokenError';
    this.code = code;
  }
}

/** Decode canonical unpadded base32 into exactly `length` bytes, or return null. */
function base32Decode(text, length) {
  const out = new Uint8Array(length);
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const ch of text) {
    const value = ALPHABET.indexOf(ch);
    if (value < 0) return null;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (index >= length) return null;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  // Leftover bits must be fewer than 5 and all zero: one text per byte string.
  if (index !== length || bits >= 5 || (buffer & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function base64ToBytes(text) {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Parse a token without checking signature or time. Throws TokenError. */
export function decodeToken(text) {
  if (typeof text !== 'string' || text.length > MAX_INPUT_CHARS) {
    throw new TokenError('not_a_token');
  }
  const cleaned = text.trim().toUpperCase();
  if (!cleaned.startsWith(PREFIX)) throw new TokenError('not_a_token');
  const body = cleaned.slice(PREFIX.length);
  if (body.length !== BASE32_CHARS) throw new TokenError('not_a_token');
  const raw = base32Decode(body, TOKEN_BYTES);
  if (raw === null) throw new TokenError('not_a_token');
  const payload = raw.slice(0, PAYLOAD_BYTES);
  const signature = raw.slice(PAYLOAD_BYTES);
  const view = new DataView(payload.buffer);
  const version = view.getUint8(0);
  if (version !== VERSION) throw new TokenError('bad_version');
  return {
    version,
    kid: toHex(payload.slice(1, 5)),
    voucherId: view.getBigUint64(5, false),
    expiresAt: view.getUint32(13, false),
    nonceHex: toHex(payload.slice(17, 29)),
    payload,
    signature,
  };
}

/** Return the token key `kid` valid at `nowSeconds` from the /api/v1/keys list, or null. */
export function findKey(keys, kid, nowSeconds) {
  const list = Array.isArray(keys) ? keys : (keys && keys.keys) || [];
  const nowMs = nowSeconds * 1000;
  for (const key of list) {
    if (!key || key.purpose !== 'token' || String(key.kid).toLowerCase() !== kid) continue;
    const notBefore = key.not_before ? Date.parse(key.not_before) : -Infinity;
    const notAfter = key.not_after ? Date.parse(key.not_after) : Infinity;
    if (notBefore <= nowMs && nowMs < notAfter) return key;
  }
  return null;
}

const importedKeys = new Map();

async function importKey(publicKeyBase64) {
  let key = importedKeys.get(publicKeyBase64);
  if (!key) {
    key = await crypto.subtle.importKey(
      'raw',
      base64ToBytes(publicKeyBase64),
      { name: 'Ed25519' },
      false,
      ['verify'],
    );
    importedKeys.set(publicKeyBase64, key);
  }
  return key;
}

function signedMessage(payload) {
  const message = new Uint8Array(DOMAIN.length + payload.length);
  message.set(DOMAIN, 0);
  message.set(payload, DOMAIN.length);
  return message;
}

/** Check form, key, signature and time window. Resolves to the payload, rejects with
 * TokenError. `keys` is the JSON list published at /api/v1/keys. */
export async function verifyToken(
  text,
  keys,
  nowSeconds,
  skew = DEFAULT_SKEW,
  maxTtl = MAX_TTL,
) {
  const token = decodeToken(text);
  const entry = findKey(keys, token.kid, nowSeconds);
  if (entry === null) throw new TokenError('unknown_key');
  if (!globalThis.crypto || !crypto.subtle) throw new TokenError('crypto_unavailable');
  let ok;
  try {
    const key = await importKey(entry.public_key);
    ok = await crypto.subtle.verify('Ed25519', key, token.signature, signedMessage(token.payload));
  } catch (err) {
    const code = err && err.name === 'NotSupportedError' ? 'crypto_unavailable' : 'unknown_key';
    throw new TokenError(code, String(err && err.message));
  }
  if (!ok) throw new TokenError('bad_signature');
  if (nowSeconds > token.expiresAt + skew) throw new TokenError('token_expired');
  if (token.expiresAt - maxTtl > nowSeconds + skew) throw new TokenError('token_not_yet_valid');
  return token;
}
