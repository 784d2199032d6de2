"""The shop scanner's camera QR reader (qrscan.js + vendored jsQR) and the browser-test kit."""

from __future__ import annotations

import base64
import io
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from tests.browser import kit

SHORT_CODE = "KP1:TESTCODE123"
# Realistic length: "KP1:" + base32 of a ~94-byte payload + Ed25519 signature.
LONG_CODE = "KP1:" + base64.b32encode(bytes(range(94))).decode("ascii").rstrip("=")
SCAN_MOUNTS = {"/merchant/static": kit.MERCHANT_STATIC}


@pytest.fixture(autouse=True)
def _chromium(request: pytest.FixtureRequest) -> None:
    """Require chromium for every test marked browser (fail in CI, skip elsewhere)."""
    if request.node.get_closest_marker("browser"):
        kit.require_chromium()


@pytest.fixture(scope="module")
def scan_site() -> Iterator[str]:
    """Serve the scan test page with merchant/static mounted where the app serves it."""
    with kit.serve_directory(kit.FIXTURES, mounts=SCAN_MOUNTS) as base:
        yield base


def camera_file(tmp_path: Path, text: str) -> Path:
    """Write a fake-camera video showing a QR code for text."""
    return kit.write_y4m(kit.qr_image(text), tmp_path / "qr.y4m")


def open_scan_page(page: Page, base: str, path: str = "/scan.html") -> list[str]:
    """Load the scan page and return its live list of JS errors."""
    errors = kit.watch_errors(page)
    page.goto(f"{base}{path}")
    return errors


def wait_for_first_code(page: Page) -> list[str]:
    """Wait until the page reports a code or an error; return the codes."""
    page.wait_for_function("() => scanState.codes.length > 0 || scanState.errors.length > 0")
    return page.evaluate("scanState.codes")


def scanner_error(page: Page) -> dict[str, object]:
    """Wait for the scanner's single onError call and return it."""
    page.wait_for_function("() => scanState.errors.length > 0")
    assert page.evaluate("scanState.ready") is False
    assert page.evaluate("scanState.codes") == []
    errors = page.evaluate("scanState.errors")
    assert len(errors) == 1
    return errors[0]


@pytest.mark.browser
@pytest.mark.parametrize("text", [SHORT_CODE, LONG_CODE], ids=["short", "token-length"])
def test_fake_camera_code_reaches_page_once(tmp_path: Path, scan_site: str, text: str) -> None:
    """A QR held before the camera is reported exactly once, under a strict CSP."""
    with kit.browser_page(camera_file(tmp_path, text)) as page:
        js_errors = open_scan_page(page, scan_site)
        assert wait_for_first_code(page) == [text]
        assert page.evaluate("scanState.ready") is True
        # The same frame keeps coming: ten more decodes must not report it again.
        seen = page.evaluate("scanState.decodes")
        page.wait_for_function(f"() => scanState.decodes >= {seen + 10}")
        assert page.evaluate("scanState.codes") == [text]
        assert page.evaluate("scanState.errors") == []
        assert page.locator("#code").text_content() == text
        assert js_errors == []


@pytest.mark.browser
def test_default_decoder_is_window_jsqr(tmp_path: Path, scan_site: str) -> None:
    """Without a decode option the scanner uses the vendored window.jsQR."""
    with kit.browser_page(camera_file(tmp_path, SHORT_CODE)) as page:
        js_errors = open_scan_page(page, scan_site, "/scan.html?default-decoder")
        assert wait_for_first_code(page) == [SHORT_CODE]
        assert js_errors == []


@pytest.mark.browser
def test_decoder_missing(tmp_path: Path, scan_site: str) -> None:
    """A page that forgot the jsQR script tag gets decoder_missing, not a crash."""
    with kit.browser_page(camera_file(tmp_path, SHORT_CODE)) as page:
        js_errors = open_scan_page(page, scan_site, "/scan_no_decoder.html?default-decoder")
        assert scanner_error(page)["code"] == "decoder_missing"
        assert js_errors == []


@pytest.mark.browser
def test_stop_ends_camera_tracks(tmp_path: Path, scan_site: str) -> None:
    """stop() stops every camera track and detaches the stream from the video."""
    with kit.browser_page(camera_file(tmp_path, SHORT_CODE)) as page:
        open_scan_page(page, scan_site)
        page.wait_for_function("() => scanState.ready === true")
        result = page.evaluate("stopScanner()")
        assert result["trackStates"] == ["ended"]
        assert result["srcObject"] is None


@pytest.mark.browser
def test_camera_denied(scan_site: str) -> None:
    """A refused camera permission gives camera_denied with the Dutch message."""
    fake_device_only = ("--use-fake-device-for-media-stream",)  # no auto-accepting prompt
    with sync_playwright() as playwright:
        browser = kit.launch(playwright, extra_args=fake_device_only)
        try:
            page = kit.new_page(browser, camera=False)
            open_scan_page(page, scan_site)
            error = scanner_error(page)
        finally:
            browser.close()
    assert error["code"] == "camera_denied"
    assert error["isError"] is True
    assert str(error["message"]).startswith("Geen toegang tot de camera")


@pytest.mark.browser
def test_camera_missing(scan_site: str) -> None:
    """Permission granted but no camera at all gives camera_missing."""
    with kit.browser_page(camera=True) as page:
        open_scan_page(page, scan_site)
        assert scanner_error(page)["code"] == "camera_missing"


@pytest.mark.browser
def test_camera_unsupported(scan_site: str) -> None:
    """A browser without navigator.mediaDevices gives camera_unsupported."""
    with kit.browser_page(camera=True) as page:
        page.add_init_script(
            "Object.defineProperty(Navigator.prototype, 'mediaDevices', {get: () => undefined})"
        )
        open_scan_page(page, scan_site)
        assert scanner_error(page)["code"] == "camera_unsupported"


@pytest.mark.browser
def test_screenshot_of_svg_qr_decodes_at_phone_width(tmp_path: Path) -> None:
    """An SVG QR shown at 360 px width survives rendering and decodes with zxing-cpp."""
    (tmp_path / "qr.svg").write_text(kit.qr_svg(LONG_CODE), encoding="utf-8")
    (tmp_path / "index.html").write_text(
        '<!doctype html><meta name="viewport" content="width=device-width">'
        '<body style="margin:0"><img src="qr.svg" alt="QR" style="width:80vw;display:block;'
        'margin:10vw auto"></body>',
        encoding="utf-8",
    )
    with kit.serve_directory(tmp_path) as base, kit.browser_page(viewport=(360, 740)) as page:
        page.goto(f"{base}/index.html")
        image = page.locator("img")
        image.wait_for()
        assert page.evaluate("document.querySelector('img').naturalWidth") > 0
        assert page.evaluate("window.innerWidth") == 360
        png = page.screenshot()
    assert kit.decode_qr_png(png) == [LONG_CODE]


def test_write_y4m_is_420_with_qr_in_luma(tmp_path: Path) -> None:
    """The y4m has a 4:2:0 header, exact frame sizes, and its Y plane holds the QR."""
    path = kit.write_y4m(kit.qr_image(SHORT_CODE), tmp_path / "qr.y4m", frames=2)
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    assert header.split()[:3] == [b"YUV4MPEG2", b"W640", b"H480"]
    assert b"C420jpeg" in header.split()
    frame_size = 640 * 480 * 3 // 2
    assert rest == (b"FRAME\n" + rest[6 : 6 + frame_size]) * 2
    luma = Image.frombytes("L", (640, 480), rest[6 : 6 + 640 * 480])
    assert luma.getpixel((0, 0)) == 255  # white surround
    chroma = rest[6 + 640 * 480 : 6 + frame_size]
    assert set(chroma) == {128}  # black and white only: neutral chroma
    png = _png(luma)
    assert kit.decode_qr_png(png) == [SHORT_CODE]


def test_write_y4m_shrinks_large_images(tmp_path: Path) -> None:
    """An image larger than the frame is scaled down to fit, still decodable."""
    big = kit.qr_image(SHORT_CODE, box_size=30)
    assert big.width > 480
    path = kit.write_y4m(big, tmp_path / "big.y4m")
    luma = Image.frombytes("L", (640, 480), path.read_bytes().partition(b"FRAME\n")[2][: 640 * 480])
    assert kit.decode_qr_png(_png(luma)) == [SHORT_CODE]


def test_write_y4m_rejects_odd_size(tmp_path: Path) -> None:
    """4:2:0 subsampling needs even dimensions."""
    with pytest.raises(ValueError, match="even"):
        kit.write_y4m(kit.qr_image(SHORT_CODE), tmp_path / "odd.y4m", width=641)


def test_live_server_serves_flask_app_and_stops() -> None:
    """live_server runs the Flask app on 127.0.0.1 and frees the port afterwards."""
    app = Flask("trivial")

    @app.get("/hello")
    def hello() -> str:
        """Greet."""
        return "hallo"

    with kit.live_server(app) as base:
        assert base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{base}/hello", timeout=5) as response:  # noqa: S310
            assert response.read() == b"hallo"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base}/hello", timeout=5)  # noqa: S310


def test_serve_directory_mounts_and_js_mime() -> None:
    """serve_directory serves the root and mounts, with a module-friendly JS MIME type."""
    with kit.serve_directory(kit.FIXTURES, mounts=SCAN_MOUNTS) as base:
        with urllib.request.urlopen(f"{base}/merchant/static/js/qrscan.js") as response:  # noqa: S310
            assert response.headers["Content-Type"].startswith("text/javascript")
            assert b"export function startScanner" in response.read()
        with urllib.request.urlopen(f"{base}/scan.html") as response:  # noqa: S310
            assert b"jsQR.js" in response.read()


def _png(image: Image.Image) -> bytes:
    """Encode an image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_require_chromium_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    """A missing browser is an error in CI and a skip on a developer machine."""
    monkeypatch.setattr(kit, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="chromium"):
        kit.require_chromium()
