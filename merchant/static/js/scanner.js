// The shop's scanner page: camera (or typed code) -> check in the browser -> amount -> pay.
// The browser check of the token (kptoken.js, WebCrypto Ed25519) is for instant feedback;
// the server checks everything again. Texts come from the page in its language.

import { startScanner, messageFor } from "./qrscan.js";
import { parseAmount } from "./amount.js";
import { verifyToken } from "/static/js/kptoken.js";

const root = document.getElementById("scanner");
const $ = (id) => document.getElementById(id);
const lang = root.dataset.lang || "nl";
const messages = JSON.parse(root.dataset.messages);
const texts = JSON.parse(root.dataset.texts);
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const STEPS = ["step-scan", "step-code", "step-amount", "step-pin", "step-result"];
const PASS_PREFIX = "KP2:"; // a printed Kindpakket pass: paying needs the PIN pad

let keys = null;
let scanner = null;
let cameraFailed = false;
let busy = false;
let pending = null; // {token} or {code}; {token, pass: true} for a printed pass
let passAmount = null; // cents typed before the PIN pad
let lastBody = null; // resent as is (same idempotency key) after a network failure

function show(step) {
  for (const id of STEPS) $(id).hidden = id !== step;
}

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function loadKeys(force = false) {
  if (keys && !force) return keys;
  const response = await fetch(root.dataset.keys, { headers: { Accept: "application/json" } });
  keys = await response.json();
  return keys;
}

async function checkToken(text) {
  const now = Math.floor(Date.now() / 1000);
  try {
    await verifyToken(text, await loadKeys(), now);
  } catch (err) {
    if (err.code === "unknown_key") {
      await verifyToken(text, await loadKeys(true), now); // keys may have rotated
      return;
    }
    throw err;
  }
}

async function onCode(text) {
  if (busy) return;
  busy = true;
  if (text.trim().toUpperCase().startsWith(PASS_PREFIX)) {
    // A pass is checked by the server only (its code is authenticated with a secret key).
    stopCamera();
    pending = { token: text.trim().toUpperCase(), pass: true };
    askAmount();
    busy = false;
    return;
  }
  $("scan-status").textContent = texts.checking;
  let checked = true;
  try {
    await checkToken(text);
  } catch (err) {
    const code = err && err.code;
    if (code && code !== "crypto_unavailable") {
      stopCamera();
      refused(code, messages[code] || messages.not_a_token);
      busy = false;
      return;
    }
    // No code: the keys could not be fetched or checked here; the server decides.
    checked = false;
  }
  stopCamera();
  pending = { token: text.trim() };
  askAmount(checked);
  busy = false;
}

function stopCamera() {
  if (scanner) scanner.stop();
  scanner = null;
}

function startCamera() {
  notice("");
  if (cameraFailed) {
    show("step-code");
    $("payment-code").focus();
    return;
  }
  show("step-scan");
  $("scan-status").textContent = $("scan-status").dataset.initial;
  scanner = startScanner({
    video: $("camera"),
    onCode,
    onError: (err) => {
      cameraFailed = true;
      scanner = null;
      notice(messageFor(err.code, lang));
      show("step-code");
    },
  });
}

// Only a code this browser checked is called valid; a typed code is checked by the server.
function askAmount(checked = false) {
  $("amount-title").textContent = checked ? texts.title_checked : texts.title_unchecked;
  show("step-amount");
  $("amount").value = "";
  $("amount").setAttribute("aria-invalid", "false");
  $("amount-error").hidden = true;
  $("amount").focus();
}

function detail(list, label, value, className = "") {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value;
  if (className) dd.className = className;
  list.append(dt, dd);
}

function result(kind, title, message) {
  const box = $("result-box");
  box.className = `result ${kind}`;
  box.setAttribute("role", kind === "ok" ? "status" : "alert");
  $("result-title").textContent = title;
  $("result-message").textContent = message || "";
  $("result-details").replaceChildren();
  $("retry").hidden = true;
  $("lower").hidden = true;
  $("next").textContent = kind === "ok" ? texts.next_customer : texts.scan_again;
  show("step-result");
  $("result-title").focus();
}

function refused(code, message, extra = {}) {
  result("refused", texts.refused, message);
  root.dataset.result = code;
  const details = $("result-details");
  if (extra.balance) detail(details, texts.left, extra.balance, "amount");
  detail(details, texts.code, code);
  $("lower").hidden = code !== "insufficient_balance" || !pending;
}

function paid(body) {
  result("ok", texts.paid, "");
  root.dataset.result = "paid";
  const details = $("result-details");
  detail(details, texts.amount, body.amount, "big-amount amount");
  const link = document.createElement("a");
  link.href = body.verify_url;
  link.textContent = body.receipt_number;
  link.id = "receipt-number";
  detail(details, texts.receipt, link);
  if (body.balance) detail(details, texts.left, body.balance, "amount");
  pending = null;
}

async function send(body) {
  lastBody = body;
  $("pay").disabled = true;
  $("pin-pay").disabled = true;
  $("scan-status").textContent = texts.sending;
  let response;
  let data;
  try {
    response = await fetch(root.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    data = await response.json();
  } catch (err) {
    networkFailure();
    return;
  } finally {
    $("pay").disabled = false;
    $("pin-pay").disabled = false;
  }
  if (response.ok) {
    paid(data);
  } else if (response.status >= 500 || !data || !data.error) {
    networkFailure();
  } else {
    const error = data.error;
    if (error.code === "pass_pin_wrong" && pending && pending.pass) {
      askPin(error.message || $("step-pin").dataset.wrong); // the same payment, a new try
      return;
    }
    refused(error.code, error.message || messages[error.code] || error.code, {
      balance: error.balance_cents !== undefined ? formatEuro(error.balance_cents) : null,
    });
  }
}

function networkFailure() {
  result("refused", texts.refused, texts.network);
  root.dataset.result = "network";
  $("retry").hidden = false;
  $("retry").focus();
}

function formatEuro(cents) {
  const euros = Math.floor(Math.abs(cents) / 100);
  const rest = String(Math.abs(cents) % 100).padStart(2, "0");
  const grouped = euros.toString().replace(/\B(?=(\d{3})+(?!\d))/g, lang === "nl" ? "." : ",");
  return lang === "nl" ? `€ ${grouped},${rest}` : `€${grouped}.${rest}`;
}

$("scan-status").dataset.initial = $("scan-status").textContent;

$("to-code").addEventListener("click", () => {
  stopCamera();
  show("step-code");
  $("payment-code").focus();
});

$("to-scan").addEventListener("click", () => {
  cameraFailed = false;
  startCamera();
});

$("code-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const digits = $("payment-code").value.replace(/\D/g, "");
  if (digits.length !== 8) {
    $("code-error").textContent = texts.code_digits;
    $("code-error").hidden = false;
    $("payment-code").setAttribute("aria-invalid", "true");
    $("payment-code").focus();
    return;
  }
  $("code-error").hidden = true;
  $("payment-code").setAttribute("aria-invalid", "false");
  pending = { code: digits };
  askAmount();
});

$("amount-form").addEventListener("submit", (event) => {
  event.preventDefault();
  let cents;
  try {
    cents = parseAmount($("amount").value);
  } catch (err) {
    $("amount-error").textContent = messages[err.code] || messages.invalid_amount;
    $("amount-error").hidden = false;
    $("amount").setAttribute("aria-invalid", "true");
    $("amount").focus();
    return;
  }
  if (pending && pending.pass) {
    passAmount = cents;
    askPin();
    return;
  }
  send({ ...pending, amount_cents: cents, idempotency_key: newKey() });
});

// -- the PIN pad of a printed pass --------------------------------------------------------

function askPin(message = "") {
  show("step-pin");
  $("pin-amount").textContent = formatEuro(passAmount);
  $("pin").value = "";
  $("pin-error").textContent = message;
  $("pin-error").hidden = !message;
  $("pin").setAttribute("aria-invalid", message ? "true" : "false");
  $("pin").focus();
}

for (const key of document.querySelectorAll(".pin-key[data-digit]")) {
  key.addEventListener("click", () => {
    if ($("pin").value.length < 12) $("pin").value += key.dataset.digit;
  });
}
$("pin-clear").addEventListener("click", () => {
  $("pin").value = "";
  $("pin").focus();
});
$("pin-back").addEventListener("click", () => {
  $("pin").value = $("pin").value.slice(0, -1);
});
$("pin").addEventListener("input", () => {
  $("pin").value = $("pin").value.replace(/\D/g, "").slice(0, 12);
});

$("pin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const pin = $("pin").value;
  if (pin.length < 5) {
    $("pin-error").textContent = $("step-pin").dataset.short;
    $("pin-error").hidden = false;
    $("pin").setAttribute("aria-invalid", "true");
    $("pin").focus();
    return;
  }
  const { pass, ...body } = pending;
  $("pin").value = ""; // the PIN is not kept on the page
  send({ ...body, pin, amount_cents: passAmount, idempotency_key: newKey() });
});

$("retry").addEventListener("click", () => {
  if (lastBody) send(lastBody);
});

$("lower").addEventListener("click", () => askAmount());

for (const button of document.querySelectorAll('[data-action="restart"]')) {
  button.addEventListener("click", () => {
    pending = null;
    passAmount = null;
    $("payment-code").value = "";
    $("pin").value = "";
    startCamera();
  });
}

startCamera();
