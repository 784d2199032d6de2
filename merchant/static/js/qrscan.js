/**
 * qrscan.js — camera QR scanner for the shop's scanner page (ES module, no dependencies
 * beyond the vendored decoder).
 *
 * Decoder: jsQR 1.4.0, vendored at merchant/static/vendor/jsqr/jsQR.js (see VERSION there).
 * It is a classic (UMD) script that defines `window.jsQR`; load it with a plain <script>
 * tag BEFORE this module (classic scripts run before deferred module scripts):
 *
 *   <video id="camera" muted playsinline></video>
 *   <script src="{{ url_for('merchant.static', filename='vendor/jsqr/jsQR.js') }}"></script>
 *   <script type="module" src="{{ url_for('merchant.static', filename='js/scanner.js') }}"></script>
 *
 *   // scanner.js
 *   import { startScanner, messageFor } from "./qrscan.js";
 *   const scanner = startScanner({
 *     video: document.getElementById("camera"),
 *     onCode: (text) => { ... },                        // once per distinct code
 *     onError: (err) => { show(messageFor(err.code)); showTypedEntry(); },
 *   });
 *   // later: scanner.stop();
 *
 * jsQR needs no eval, no wasm and no network: it works under a strict CSP
 * (`script-src 'self'`), without 'wasm-unsafe-eval'. The page needs the Permissions-Policy
 * `camera=(self)` and a secure context (https, or http://127.0.0.1 / localhost).
 *
 * Error codes passed to onError (err is a ScanError; err.code is fixed, err.message Dutch,
 * messageFor(code, "en") English):
 *   camera_unsupported  no navigator.mediaDevices.getUserMedia (old browser, or insecure context)
 *   camera_denied       the user or a policy refused camera access
 *   camera_missing      no camera on this device (or none matching)
 *   camera_in_use       the camera exists but cannot be opened (used by another app)
 *   camera_error        any other camera failure (err.cause holds the original error)
 *   decoder_missing     window.jsQR was not loaded before startScanner
 * After any of these the scanner has stopped; the page should fall back to typing the code.
 */

/** Widest frame (in CSS pixels) handed to the decoder; larger frames are downscaled. */
export const MAX_DECODE_WIDTH = 640;
/** Pause between decode attempts: ~9 attempts a second. */
export const DECODE_INTERVAL_MS = 110;
/** The same text is not reported again until it has been out of sight this long. */
export const REPEAT_AFTER_MS = 3000;

/** Plain-language messages per error code, Dutch first, English second. */
export const MESSAGES = Object.freeze({
  camera_unsupported: {
    nl: "Deze browser kan de camera hier niet gebruiken. Typ de code over.",
    en: "This browser cannot use the camera here. Please type the code.",
  },
  camera_denied: {
    nl: "Geen toegang tot de camera. Sta de camera toe in de browser, of typ de code over.",
    en: "No access to the camera. Allow the camera in your browser, or type the code.",
  },
  camera_missing: {
    nl: "Er is geen camera gevonden. Typ de code over.",
    en: "No camera was found. Please type the code.",
  },
  camera_in_use: {
    nl: "De camera wordt al door een ander programma gebruikt. Sluit dat, of typ de code over.",
    en: "The camera is in use by another program. Close it, or type the code.",
  },
  camera_error: {
    nl: "De camera werkt niet. Typ de code over.",
    en: "The camera is not working. Please type the code.",
  },
  decoder_missing: {
    nl: "De scanner kon niet laden. Typ de code over.",
    en: "The scanner could not load. Please type the code.",
  },
});

/** Return the message for an error code in "nl" (default) or "en". */
export function messageFor(code, lang = "nl") {
  const entry = MESSAGES[code] ?? MESSAGES.camera_error;
  return entry[lang] ?? entry.nl;
}

/** A scanner failure with a fixed machine `code` and a Dutch `message`. */
export class ScanError extends Error {
  constructor(code, cause = undefined) {
    super(messageFor(code, "nl"), cause === undefined ? undefined : { cause });
    this.name = "ScanError";
    this.code = code;
  }
}

/** Map a getUserMedia DOMException to a ScanError. */
export function cameraError(err) {
  switch (err && err.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return new ScanError("camera_denied", err);
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return new ScanError("camera_missing", err);
    case "NotReadableError":
    case "TrackStartError":
      return new ScanError("camera_in_use", err);
    default:
      return new ScanError("camera_error", err);
  }
}

/** Decode one frame with window.jsQR; return the text or null. */
export function jsqrDecode(image) {
  const result = globalThis.jsQR(image.data, image.width, image.height, {
    inversionAttempts: "dontInvert", // codes are shown dark-on-light; halves the work
  });
  return result ? result.data : null;
}

/** Return true when this page can ask for the camera at all. */
export function cameraSupported() {
  return Boolean(
    globalThis.isSecureContext !== false &&
      globalThis.navigator &&
      navigator.mediaDevices &&
      typeof navigator.mediaDevices.getUserMedia === "function",
  );
}

/** Return a debouncer: call it with a text, it says whether to report it now. */
function repeatFilter(repeatAfterMs) {
  const lastSeen = new Map();
  return (text, now) => {
    const seen = lastSeen.get(text);
    lastSeen.set(text, now);
    for (const [other, at] of lastSeen) {
      if (now - at > repeatAfterMs) lastSeen.delete(other);
    }
    return seen === undefined || now - seen > repeatAfterMs;
  };
}

/** Copy the current video frame, downscaled to maxWidth, into ImageData (or null). */
function grabFrame(video, canvas, maxWidth) {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (!vw || !vh || video.readyState < 2 /* HAVE_CURRENT_DATA */) return null;
  const scale = Math.min(1, maxWidth / vw);
  const width = Math.max(1, Math.round(vw * scale));
  const height = Math.max(1, Math.round(vh * scale));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

/** Call a user callback without letting its exceptions stop the scan loop. */
function safeCall(callback, value) {
  try {
    callback(value);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

/**
 * Start the camera on `video` and report QR codes.
 *
 * options: {video, onCode(text), onError(ScanError), decode?(ImageData) -> string|null,
 *           maxWidth?, intervalMs?, repeatAfterMs?}
 * Returns {stop(), ready}: stop() ends the loop and every camera track (safe to call twice,
 * also before the camera opened); ready is a Promise<boolean>, true once frames flow and
 * false when the camera could not start (onError has then been called).
 */
export function startScanner(options) {
  const {
    video,
    onCode,
    onError = () => {},
    decode = jsqrDecode,
    maxWidth = MAX_DECODE_WIDTH,
    intervalMs = DECODE_INTERVAL_MS,
    repeatAfterMs = REPEAT_AFTER_MS,
  } = options;
  const canvas = document.createElement("canvas"); // never attached: offscreen
  const shouldReport = repeatFilter(repeatAfterMs);
  let stream = null;
  let stopped = false;
  let timer = 0;
  let frame = 0;

  function stopTracks() {
    if (stream) {
      for (const track of stream.getTracks()) track.stop();
    }
    if (video.srcObject === stream && stream) video.srcObject = null;
    stream = null;
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    cancelAnimationFrame(frame);
    stopTracks();
  }

  function fail(error) {
    stop();
    safeCall(onError, error);
    return false;
  }

  function scanOnce() {
    if (stopped) return;
    const image = grabFrame(video, canvas, maxWidth);
    const text = image ? decode(image) : null;
    if (text && shouldReport(text, performance.now())) safeCall(onCode, text);
    schedule();
  }

  function schedule() {
    if (stopped) return;
    // setTimeout paces the loop; requestAnimationFrame pauses it while the tab is hidden.
    timer = setTimeout(() => {
      frame = requestAnimationFrame(scanOnce);
    }, intervalMs);
  }

  async function open() {
    await null; // report even early errors after startScanner has returned its handle
    if (!cameraSupported()) return fail(new ScanError("camera_unsupported"));
    if (decode === jsqrDecode && typeof globalThis.jsQR !== "function") {
      return fail(new ScanError("decoder_missing"));
    }
    let media;
    try {
      media = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" } }, // rear camera on phones
      });
    } catch (err) {
      return fail(cameraError(err));
    }
    stream = media;
    if (stopped) {
      stopTracks(); // stop() came while the permission prompt was open
      return false;
    }
    video.muted = true;
    video.playsInline = true; // iOS: play in the page, not full screen
    video.setAttribute("playsinline", "");
    video.srcObject = media;
    try {
      await video.play();
    } catch (err) {
      if (stopped) return false;
      return fail(new ScanError("camera_error", err));
    }
    if (stopped) return false;
    scanOnce();
    return true;
  }

  return { stop, ready: open() };
}
