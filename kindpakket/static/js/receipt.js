// receipt.js: the "Check" button of the receipt page (/receipt/<seq>).
//
// 1. Fetches the entry. A party to it (logged in, or holding a receipt link) gets the exact
//    bytes that were hashed; the page checks SHA-256(bytes) = the hash on the receipt link
//    and only then reads kind, amount, shop and time from those bytes. The public gets the
//    hash only, and the page says that it proves no more than that.
// 2. Fetches the inclusion proof with its signed checkpoint and the published keys and
//    verifies both with kpproof.js (WebCrypto SHA-256 and Ed25519). Signature lines by other
//    keys (witness cosignatures) are ignored for the check and their names shown.
// 3. Compares the checkpoint with the one this browser kept from its last visit (local
//    storage, per origin and ledger) through an RFC 9162 consistency proof, and keeps the
//    newer one. A failed comparison warns that the ledger was rewritten.

import {
  b64ToBytes,
  bytesToHex,
  checkConsistency,
  KpProofError,
  otherSigners,
  verifyReceipt,
} from "./kpproof.js";

const section = document.getElementById("receipt");
const button = document.getElementById("check");
const result = document.getElementById("result");
const history = document.getElementById("history");
const witnesses = document.getElementById("witnesses");
const contents = document.getElementById("contents");
const text = JSON.parse(section.dataset.messages);
const lang = section.dataset.lang === "en" ? "en-GB" : "nl-NL";
const STORE_KEY = `kindpakket.checkpoint:${section.dataset.origin}`;

function fill(template, values) {
  return Object.entries(values).reduce((t, [k, v]) => t.replace(`%(${k})s`, String(v)), template);
}

function paragraph(className, line) {
  const p = document.createElement("p");
  if (className) p.className = className;
  p.textContent = line;
  return p;
}

/** Show the outcome in the live region: a heading word and detail lines. */
function show(ok, headline, ...details) {
  result.replaceChildren(
    paragraph(ok ? "status-ok" : "status-error", headline),
    ...details.map((d) => paragraph("", d)),
  );
  result.dataset.state = ok ? "verified" : "failed";
}

function fail(code, message) {
  contents.hidden = true; // nothing on this page is proven
  const detail = text[code] || message || text.other;
  show(false, text.failed, `${detail} (${text.code}: ${code})`);
}

class Refusal extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

async function getJson(url) {
  const response = await fetch(url, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Refusal((body.error && body.error.code) || "network");
  return body;
}

function euro(cents) {
  return new Intl.NumberFormat(lang, { style: "currency", currency: "EUR" }).format(cents / 100);
}

/** Check the served bytes against the receipt's hash; return the parsed entry. */
async function provenEntry(entry, expectedHash) {
  let data;
  try {
    data = b64ToBytes(entry.bytes, "bad_bytes");
  } catch {
    throw new Refusal("bytes_mismatch");
  }
  const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
  if (digest !== expectedHash) throw new Refusal("bytes_mismatch");
  try {
    const parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
    if (parsed.v !== 1 || parsed.seq !== Number(section.dataset.seq)) throw new Error("entry");
    if (!Array.isArray(parsed.postings)) throw new Error("postings");
    return parsed;
  } catch {
    throw new Refusal("bad_bytes");
  }
}

function showContents(parsed) {
  const meta = parsed.meta && typeof parsed.meta === "object" ? parsed.meta : {};
  const amount = parsed.postings
    .map((p) => (Array.isArray(p) && Number.isSafeInteger(p[1]) ? p[1] : 0))
    .filter((n) => n > 0)
    .reduce((a, b) => a + b, 0);
  document.getElementById("c-kind").textContent = text.kinds[parsed.kind] || parsed.kind;
  document.getElementById("c-amount").textContent = euro(amount);
  document.getElementById("c-shop").textContent = meta.shop_name ? String(meta.shop_name) : "—";
  document.getElementById("c-receipt").textContent = meta.receipt ? String(meta.receipt) : "—";
  const time = document.getElementById("c-time");
  const moment = new Date(parsed.ts);
  time.dateTime = parsed.ts;
  time.textContent = Number.isNaN(moment.getTime())
    ? String(parsed.ts)
    : new Intl.DateTimeFormat(lang, {
        timeZone: "Europe/Amsterdam",
        day: "numeric",
        month: "short",
        year: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        timeZoneName: "short",
      }).format(moment);
  contents.hidden = false;
}

function showWitnesses(names) {
  witnesses.textContent = names.length ? `${text.witnesses} ${names.join(", ")}` : text.no_witnesses;
  witnesses.dataset.count = String(names.length);
  witnesses.hidden = false;
}

function readKept() {
  try {
    const kept = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (kept && Number.isSafeInteger(kept.size) && typeof kept.root === "string") return kept;
  } catch {
    /* unreadable: treated as no earlier visit */
  }
  return null;
}

function keep(cp, note) {
  const root = btoa(String.fromCharCode(...cp.root));
  localStorage.setItem(STORE_KEY, JSON.stringify({ size: cp.size, root, note }));
}

function showHistory(state, ...lines) {
  history.replaceChildren(...lines);
  history.dataset.state = state;
}

/**
 * Compare the verified checkpoint `cp` with the one kept from the last visit. Returns
 * false when the ledger was rewritten (the kept checkpoint is then left as evidence).
 */
async function compareWithLastVisit(cp, note) {
  const kept = readKept();
  if (kept === null) {
    keep(cp, note);
    showHistory("first", paragraph("muted", fill(text.first_visit, { size: cp.size })));
    return true;
  }
  const keptRoot = b64ToBytes(kept.root);
  const [old, oldRoot, next, nextRoot] =
    kept.size <= cp.size ? [kept.size, keptRoot, cp.size, cp.root] : [cp.size, cp.root, kept.size, keptRoot];
  let proof = [];
  try {
    if (old !== next && old > 0) {
      const url = `${section.dataset.consistencyUrl}?old=${old}&new=${next}`;
      proof = (await getJson(url)).proof;
    }
    await checkConsistency(old, next, oldRoot, nextRoot, proof);
  } catch (err) {
    if (!(err instanceof KpProofError) && !(err instanceof Refusal && err.code === "bad_size")) {
      showHistory("unchecked", paragraph("muted", text.history_unchecked));
      return true;
    }
    const warning = paragraph("status-error", text.rewritten);
    warning.setAttribute("role", "alert");
    showHistory("rewritten", warning, paragraph("", fill(text.rewritten_detail, { old: kept.size })));
    return false;
  }
  if (cp.size >= kept.size) keep(cp, note);
  const line = fill(text.consistent, { old: kept.size, new: cp.size });
  showHistory("consistent", paragraph("muted", line));
  return true;
}

async function check() {
  button.disabled = true;
  result.dataset.state = "checking";
  result.textContent = text.checking;
  contents.hidden = true;
  try {
    const seq = Number(section.dataset.seq);
    const expected = section.dataset.hash;
    const entry = await getJson(section.dataset.entryUrl);
    if (entry.hash !== expected) return fail("hash_mismatch");
    const parsed = entry.bytes ? await provenEntry(entry, expected) : null;
    // The proof first: fetching it may sign the first checkpoint (and make its key).
    const proof = await getJson(section.dataset.proofUrl);
    const keys = await getJson(section.dataset.keysUrl);
    if (proof.entry_hash !== expected) return fail("hash_mismatch");
    if (!proof.checkpoint) return fail("no_checkpoint");
    const checkpointKeys = (keys.keys || []).filter((k) => k.purpose === "checkpoint");
    const outcome = await verifyReceipt({
      entry_hash: expected,
      seq,
      proof: proof.proof,
      checkpoint: proof.checkpoint,
      keys: checkpointKeys,
      origin: section.dataset.origin,
    });
    if (!outcome.ok) return fail(outcome.code, outcome.message);
    showWitnesses(await otherSigners(proof.checkpoint, checkpointKeys));
    if (!(await compareWithLastVisit(outcome.checkpoint, proof.checkpoint))) {
      return fail("ledger_rewritten", text.rewritten);
    }
    const detail = fill(text.verified_detail, { size: outcome.checkpoint.size });
    if (parsed) showContents(parsed);
    show(true, text.verified, detail, parsed ? text.contents_proven : text.hash_only);
    result.dataset.proven = parsed ? "contents" : "hash";
  } catch (err) {
    fail(err.code || "network", err.message);
  } finally {
    button.disabled = false;
  }
}

// The language links keep the receipt link's hash, party and token (base.html drops them).
for (const link of document.querySelectorAll("nav.lang a[href^='?lang=']")) {
  const url = new URL(window.location.href);
  url.searchParams.set("lang", new URLSearchParams(link.getAttribute("href")).get("lang"));
  link.setAttribute("href", url.pathname + url.search);
}

button.addEventListener("click", check);
