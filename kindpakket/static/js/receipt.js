// receipt.js: the "Check" button of the public receipt page (/receipt/<seq>).
//
// Fetches the inclusion proof with its signed checkpoint and the published keys, then
// verifies both here with kpproof.js (WebCrypto SHA-256 and Ed25519). The entry hash
// checked is the one on the receipt link, not the one the server sends back.

import { verifyReceipt } from "./kpproof.js";

const section = document.getElementById("receipt");
const button = document.getElementById("check");
const result = document.getElementById("result");
const text = JSON.parse(section.dataset.messages);

/** Show the outcome in the live region: a heading word and a detail line. */
function show(ok, headline, detail) {
  result.replaceChildren();
  const strong = document.createElement("p");
  strong.className = ok ? "status-ok" : "status-error";
  strong.textContent = headline;
  const line = document.createElement("p");
  line.textContent = detail;
  result.append(strong, line);
  result.dataset.state = ok ? "verified" : "failed";
}

function fail(code, message) {
  const detail = text[code] || message || text.other;
  show(false, text.failed, `${detail} (${text.code}: ${code})`);
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = (body.error && body.error.code) || "network";
    throw Object.assign(new Error(code), { code });
  }
  return body;
}

async function check() {
  button.disabled = true;
  result.dataset.state = "checking";
  result.textContent = text.checking;
  try {
    const seq = Number(section.dataset.seq);
    // The proof first: fetching it may sign the first checkpoint (and make its key).
    const proof = await getJson(section.dataset.proofUrl);
    const keys = await getJson(section.dataset.keysUrl);
    if (proof.entry_hash !== section.dataset.hash) return fail("hash_mismatch");
    if (!proof.checkpoint) return fail("no_checkpoint");
    const checkpointKeys = (keys.keys || []).filter((k) => k.purpose === "checkpoint");
    const outcome = await verifyReceipt({
      entry_hash: section.dataset.hash,
      seq,
      proof: proof.proof,
      checkpoint: proof.checkpoint,
      keys: checkpointKeys,
      origin: section.dataset.origin,
    });
    if (!outcome.ok) return fail(outcome.code, outcome.message);
    show(true, text.verified, text.verified_detail.replace("%(size)s", outcome.checkpoint.size));
  } catch (err) {
    fail(err.code || "network", err.message);
  } finally {
    button.disabled = false;
  }
}

button.addEventListener("click", check);
