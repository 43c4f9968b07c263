"""`make bench`: what the grid worker's app costs a phone: bytes of JS and CSS sent (compressed, as
the gateway sends them) and the time until the report form can be used, cold (first visit) and
warm (from the service worker's cache), in Debian's Chromium at 360×740 on this machine."""

import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Response, sync_playwright

from gridloop.stack.stack import Stack, StackConfig

RUNS = 5
READY = "() => document.querySelectorAll('#category option').length > 0"


def main() -> None:
    with tempfile.TemporaryDirectory() as logs:
        stack = Stack(StackConfig.ephemeral(log_dir=Path(logs)))
        stack.start()
        try:
            measure(stack.gateway_url)
        finally:
            stack.stop()


def measure(gateway: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-gpu"],
        )
        cold: list[float] = []
        warm: list[float] = []
        sizes: dict[str, int] = {}
        for run in range(RUNS):
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="zh-CN")
            page = context.new_page()
            sent: dict[str, int] = {}

            def count(response: Response, sent: dict[str, int] = sent) -> None:
                kind = response.request.resource_type
                if kind in ("script", "stylesheet"):
                    response.finished()
                    sent[response.url] = response.request.sizes()["responseBodySize"]

            page.on("response", count)
            page.goto(f"{gateway}/signin")
            page.click("button[data-sub='gw-lj01']")  # first visit: nothing cached, no service worker yet
            page.wait_for_function(READY)
            cold.append(page.evaluate("() => performance.now()"))
            if run == 0:
                sizes = dict(sent)
            page.evaluate("() => navigator.serviceWorker.ready")
            page.reload()  # a later start: the shell from the service worker's cache
            page.wait_for_function(READY)
            warm.append(page.evaluate("() => performance.now()"))
            context.close()
        browser.close()
    js = sum(v for k, v in sizes.items() if k.endswith(".js"))
    css = sum(v for k, v in sizes.items() if k.endswith(".css"))
    print(f"grid worker's app: JS {js:,} bytes, CSS {css:,} bytes sent ({len(sizes)} files)")
    print(
        f"time until the report form is usable: cold p50 {statistics.median(cold):.0f} ms (max {max(cold):.0f}),"
        f" warm p50 {statistics.median(warm):.0f} ms (max {max(warm):.0f}) over {RUNS} runs"
    )


if __name__ == "__main__":
    main()
