// Pay page: fetch a fresh signed QR code before the shown one expires, without reloading.
// Strings come from data- attributes (translated by the server); no inline script (CSP).
(function () {
  "use strict";
  const root = document.getElementById("pay");
  if (!root) return;
  const img = document.getElementById("qr");
  const countdown = document.getElementById("countdown");
  const status = document.getElementById("pay-status");
  const payCode = document.getElementById("pay-code");
  const tokenText = document.getElementById("token-text");
  const form = document.getElementById("new-code-form");
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";
  const STOP_AFTER_MS = 15 * 60 * 1000; // stop renewing when nobody looked for a long time
  let deadline = 0;
  let ttl = 0;
  let busy = false;
  let retryAt = 0;
  let activeSince = Date.now();

  function say(text) { status.textContent = text; }

  function show(data) {
    img.src = data.qr_svg;
    img.alt = data.qr_alt;
    payCode.textContent = data.payment_code_display;
    tokenText.textContent = data.token;
    root.dataset.token = data.token;
    ttl = data.ttl;
    deadline = Date.now() + data.expires_in * 1000;
    tick();
  }

  async function renew(announce) {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(root.dataset.tokenUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      });
      if (response.status === 401) { window.location.reload(); return; }
      const body = await response.json();
      if (!response.ok) {
        say(body.error && body.error.message ? body.error.message : root.dataset.msgFailed);
        retryAt = Date.now() + 5000;
        return;
      }
      show(body);
      if (announce) say(root.dataset.msgNew);
    } catch (err) {
      say(root.dataset.msgFailed);
      retryAt = Date.now() + 5000;
    } finally {
      busy = false;
    }
  }

  function lead() { return Math.max(1, Math.min(15, Math.floor(ttl / 4))); }

  function tick() {
    if (!deadline) return;
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    countdown.textContent = left > 0
      ? root.dataset.msgSeconds.replace("{s}", String(left))
      : root.dataset.msgExpired;
    const watching = !document.hidden && Date.now() - activeSince < STOP_AFTER_MS;
    if (left <= lead() && watching && Date.now() >= retryAt) renew(true);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    activeSince = Date.now();
    renew(true);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { activeSince = Date.now(); tick(); }
  });
  window.setInterval(tick, 1000);

  if (root.dataset.expiresIn) {
    ttl = Number(root.dataset.ttl);
    deadline = Date.now() + Number(root.dataset.expiresIn) * 1000;
    root.dataset.token = tokenText.textContent;
    tick();
  } else {
    renew(false);
  }
})();
