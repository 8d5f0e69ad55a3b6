"""Open a local HTML file in Debian's headless Chromium with the network cut off.

Used by the browser tests (``@pytest.mark.browser``). Playwright drives the
system Chromium at ``/usr/bin/chromium`` (Playwright's own browser download
cannot work here); every request that is not ``file://`` is aborted and
recorded, console errors and uncaught page errors are collected, JavaScript
probes can be evaluated in the page, and a screenshot is written. Playwright
launches each browser with a fresh temporary profile (user data dir).

If Chromium or Playwright is missing the calling test is skipped, or fails
when the ``CI`` environment variable is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

# A summary of the first Leaflet map on the page (folium maps are globals
# named map_NNNN): its layers by kind, the SVG paths drawn, and the overlay
# names listed in the layer control.
LEAFLET_SUMMARY_JS = """
() => {
  const maps = Object.keys(window)
    .filter((k) => { try { return window[k] instanceof L.Map; } catch (e) { return false; } })
    .map((k) => [k, window[k]]);
  if (maps.length === 0) { return {maps: 0}; }
  const [name, map] = maps[0];
  const layers = Object.values(map._layers);
  const count = (cls) => layers.filter((l) => l instanceof cls).length;
  return {
    maps: maps.length,
    mapName: name,
    layers: layers.length,
    circleMarkers: count(L.CircleMarker),
    polygons: count(L.Polygon),
    geoJsonLayers: count(L.GeoJSON),
    tileLayers: count(L.TileLayer),
    interactivePaths: document.querySelectorAll("path.leaflet-interactive").length,
    overlayNames: Array.from(
      document.querySelectorAll(".leaflet-control-layers-overlays label")
    ).map((el) => el.textContent.trim()),
    scaleText: Array.from(document.querySelectorAll(".leaflet-control-scale-line"))
      .map((el) => el.textContent.trim()),
    brokenImages: Array.from(document.images)
      .filter((img) => img.complete && img.naturalWidth === 0).map((img) => img.src),
  };
}
"""


@dataclass
class BrowserResult:
    """What happened when a page was opened in Chromium."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot_path: Path | None = None

    @property
    def clean(self) -> bool:
        """True if nothing went wrong: no errors, no blocked or failed requests."""
        return not (
            self.console_errors or self.page_errors or self.blocked_requests or self.failed_requests or self.dialogs
        )


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def require_chromium() -> None:
    """Skip (or fail in CI) unless Debian's Chromium and Playwright are installed."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found; install it with `apt-get install chromium`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright Python package is not installed")


def render_in_chromium(
    html_path: str | os.PathLike[str],
    screenshot_path: str | os.PathLike[str],
    *,
    timeout_s: float = 30,
    evaluate: Mapping[str, str] | None = None,
    viewport: tuple[int, int] = (1000, 700),
    wait_for_selector: str | None = ".leaflet-container",
    actions: Callable[[Any], Any] | None = None,
    full_page: bool = False,
) -> BrowserResult:
    """Load ``html_path`` with the network blocked, run probes, save a screenshot.

    Parameters
    ----------
    html_path
        The local HTML file to open (as a ``file://`` URL).
    screenshot_path
        Where to write the PNG screenshot of the viewport.
    timeout_s
        Time limit for launching, loading and each probe.
    evaluate
        Named JavaScript expressions or functions to evaluate in the page, in
        order, after it has loaded; results land in ``BrowserResult.values``.
    viewport
        Width and height of the page in CSS pixels.
    wait_for_selector
        Wait until this selector is present before probing (None: don't).
    actions
        Called with the Playwright page after the probes (clicks, hovers);
        its return value lands in ``BrowserResult.values["actions"]``.
    full_page
        Screenshot the whole scrollable page instead of the viewport.

    Dialogs (``alert``, ``confirm``, ``prompt``) are recorded in
    ``BrowserResult.dialogs`` and dismissed.
    """
    require_chromium()
    from playwright.sync_api import Route, sync_playwright

    path = Path(html_path).resolve()
    shot = Path(screenshot_path)
    shot.parent.mkdir(parents=True, exist_ok=True)
    result = BrowserResult(screenshot_path=shot)
    timeout_ms = timeout_s * 1000

    def handle(route: Route) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            result.blocked_requests.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            timeout=timeout_ms,
        )
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
            )
            context.set_default_timeout(timeout_ms)
            context.route("**/*", handle)
            page = context.new_page()
            page.on(
                "console",
                lambda msg: (
                    result.console_errors.append(f"{msg.text} @ {msg.location}") if msg.type == "error" else None
                ),
            )
            page.on("pageerror", lambda exc: result.page_errors.append(str(exc)))
            page.on("dialog", lambda dialog: (result.dialogs.append(dialog.message), dialog.dismiss()))
            page.on("request", lambda req: result.requests.append(req.url))
            page.on(
                "requestfailed",
                lambda req: (
                    result.failed_requests.append(f"{req.url}: {req.failure}")
                    if req.url not in result.blocked_requests
                    else None
                ),
            )
            page.goto(path.as_uri(), wait_until="load")
            if wait_for_selector:
                page.wait_for_selector(wait_for_selector, state="attached")
            # Let Leaflet finish its first layout before probing and shooting.
            page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
            for name, script in (evaluate or {}).items():
                result.values[name] = page.evaluate(script)
            if actions is not None:
                result.values["actions"] = actions(page)
            page.screenshot(path=str(shot), full_page=full_page)
        finally:
            browser.close()
    return result
