"""Browser-test toolkit: Debian chromium via Playwright (sync API), fake camera, QR in and out.

Typical use in a test module::

    import pytest
    from tests.browser import kit

    pytestmark = pytest.mark.browser

    @pytest.fixture(autouse=True, scope="module")
    def _chromium() -> None:
        kit.require_chromium()

    def test_page(tmp_path):
        with kit.live_server(app) as base, kit.browser_page() as page:
            page.goto(f"{base}/wallet")
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import qrcode
import qrcode.constants
import qrcode.image.svg
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"

BASE_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

REPO_ROOT = Path(__file__).resolve().parents[2]
MERCHANT_STATIC = REPO_ROOT / "merchant" / "static"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def chromium_available() -> bool:
    """Return True when the Debian chromium binary is installed and executable."""
    return os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM) is not None


def require_chromium() -> None:
    """Fail in CI, skip elsewhere, when chromium is not installed."""
    if chromium_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is required in CI")
    pytest.skip("chromium not installed (apt-get install chromium)")


def camera_args(fake_camera_y4m: Path) -> list[str]:
    """Return the chromium flags that turn a .y4m file into an always-allowed camera."""
    y4m = Path(fake_camera_y4m)
    if not y4m.is_file():
        raise FileNotFoundError(f"fake camera file must exist before launch: {y4m}")
    return [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m.resolve()}",
    ]


def launch(
    playwright: Playwright,
    fake_camera_y4m: Path | None = None,
    extra_args: tuple[str, ...] = (),
) -> Browser:
    """Launch headless Debian chromium, optionally with a fake camera showing the y4m file."""
    args = [*BASE_ARGS, *extra_args]
    if fake_camera_y4m is not None:
        args += camera_args(fake_camera_y4m)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


def new_page(
    browser: Browser,
    viewport: tuple[int, int] = (360, 740),
    locale: str = "nl-NL",
    camera: bool = False,
    **context_options: Any,
) -> Page:
    """Open a page in a fresh context (own cookies); camera=True grants camera permission."""
    width, height = viewport
    permissions = ["camera"] if camera else []
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=locale,
        permissions=permissions,
        **context_options,
    )
    return context.new_page()


@contextmanager
def browser_page(
    fake_camera_y4m: Path | None = None,
    viewport: tuple[int, int] = (360, 740),
    locale: str = "nl-NL",
    camera: bool | None = None,
    **context_options: Any,
) -> Iterator[Page]:
    """Yield a page in its own chromium; camera permission defaults to on with a fake camera."""
    require_chromium()
    grant = fake_camera_y4m is not None if camera is None else camera
    with sync_playwright() as playwright:
        browser = launch(playwright, fake_camera_y4m)
        try:
            yield new_page(browser, viewport, locale, camera=grant, **context_options)
        finally:
            browser.close()


def watch_errors(page: Page) -> list[str]:
    """Collect uncaught exceptions and console errors (CSP violations, 404s) into a live list.

    A missing /favicon.ico is ignored: browsers ask for it on their own.
    """
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"console: {message.text} ({url})")

    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", on_console)
    return errors


def fit_on_white(image: Image.Image, width: int, height: int) -> Image.Image:
    """Return a width x height white RGB frame with the image centred (shrunk if too big)."""
    picture = image.convert("RGB")
    if picture.width > width or picture.height > height:
        scale = min(width / picture.width, height / picture.height)
        size = (max(1, int(picture.width * scale)), max(1, int(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.NEAREST)
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    return frame


def yuv420_planes(frame: Image.Image) -> bytes:
    """Return the planar Y, U, V bytes of an RGB frame, chroma subsampled 2x2 (box filter)."""
    y, cb, cr = frame.convert("YCbCr").split()
    half = (frame.width // 2, frame.height // 2)
    cb_small = cb.resize(half, Image.Resampling.BOX)
    cr_small = cr.resize(half, Image.Resampling.BOX)
    return y.tobytes() + cb_small.tobytes() + cr_small.tobytes()


def write_y4m(
    image: Image.Image, path: Path, width: int = 640, height: int = 480, frames: int = 1
) -> Path:
    """Write the image, centred on white, as a YUV4MPEG2 4:2:0 video for chromium's camera."""
    if width % 2 or height % 2:
        raise ValueError("4:2:0 needs an even width and height")
    if frames < 1:
        raise ValueError("a video needs at least one frame")
    planes = yuv420_planes(fit_on_white(image, width, height))
    header = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode("ascii")
    path = Path(path)
    with path.open("wb") as out:
        out.write(header)
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(planes)
    return path


def qr_image(text: str, box_size: int = 8, border: int = 4) -> Image.Image:
    """Return a black-on-white QR code (error correction M) for the text as a PIL image."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    code.add_data(text)
    code.make(fit=True)
    picture: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    return picture.convert("RGB")


def qr_svg(text: str) -> str:
    """Return a QR code for the text as an SVG document (qrcode's path image, like the wallet)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    svg: str = image.to_string(encoding="unicode")
    return svg


def decode_qr_png(png_bytes: bytes) -> list[str]:
    """Return the texts of all QR codes zxing-cpp finds in a PNG (e.g. a screenshot)."""
    with Image.open(io.BytesIO(png_bytes)) as image:
        rgb = image.convert("RGB")
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(rgb, formats=qr_only)
    return [result.text for result in results]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler with module-friendly MIME types, extra mounts and no request log."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".svg": "image/svg+xml",
        ".y4m": "application/octet-stream",
    }

    def __init__(self, *args: Any, mounts: Mapping[str, Path], **kwargs: Any) -> None:
        self.mounts = mounts
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        """Map URL prefixes listed in mounts to their directories, the rest to the root."""
        for prefix, directory in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                self.directory = str(directory)
                return super().translate_path(path[len(prefix) :] or "/")
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@contextmanager
def serve_directory(path: Path, mounts: Mapping[str, Path] | None = None) -> Iterator[str]:
    """Serve a directory, plus {"/url/prefix": dir} mounts, on 127.0.0.1; yield the base URL."""
    cleaned = {prefix.rstrip("/"): Path(directory) for prefix, directory in (mounts or {}).items()}
    handler = functools.partial(_QuietHandler, directory=str(path), mounts=cleaned)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Run a WSGI app (the Flask app) on 127.0.0.1 in a daemon thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
