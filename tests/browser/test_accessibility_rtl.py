"""The family's wallet in Arabic at 360 px: right to left, no sideways scrolling, axe clean."""

from __future__ import annotations

from pathlib import Path

from tests.browser.test_accessibility import Site, audit, page_for, site  # noqa: F401


def test_wallet_home_and_pay_page_in_arabic_meet_wcag_at_360px(site: Site, tmp_path: Path) -> None:  # noqa: F811
    page = page_for(site, "family", "ar")
    for path in ("/wallet/", "/wallet/pay/{voucher}"):
        url = site.base + path.format(**site.ids)
        problems = audit(site, page, url, "ar", 360)
        assert problems == [], f"{path} [ar]:\n" + "\n".join(problems)
        assert page.evaluate("() => document.documentElement.dir") == "rtl"
        page.screenshot(path=str(tmp_path / f"wallet-ar-{path.split('/')[2] or 'home'}.png"))
