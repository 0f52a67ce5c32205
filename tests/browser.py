"""A real headless Chromium for the page tests, driven by the DevTools protocol over a pipe (stdlib only).

Chromium started with --remote-debugging-pipe reads NUL-terminated JSON commands on fd 3 and writes
replies and events on fd 4. `open_page` loads a file, waits for its load event and returns what a
person would check: console errors and exceptions, every <img>'s natural width, any element's text.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)
NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, NAMES) if p), None)


def _above_four(fd: int) -> int:
    """The same pipe end on a descriptor >= 10 (the original closed)."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Browser:
    """One headless Chromium; `with Browser() as b: page = b.open_page(path)`."""

    def __init__(self, executable: str, timeout: float = 60.0):
        self.profile = tempfile.mkdtemp(prefix="lrl-chromium-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        to_child, from_child = (_above_four(fd) for fd in (to_child, from_child))  # `3<&4 4>&3` would clash
        command = " ".join(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", f"3<&{to_child}", f"4>&{from_child}"]
        )
        self.proc = subprocess.Popen(
            ["bash", "-c", "exec " + command],
            pass_fds=(to_child, from_child),
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("LRL_CHROMIUM_LOG", os.devnull), "w"),
        )
        os.close(to_child)
        os.close(from_child)
        self.timeout = timeout
        self._buffer = b""
        self._next = 0
        self.events: list[dict] = []

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _message(self) -> dict:
        import select

        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], self.timeout)
            if not ready:
                raise TimeoutError(f"chromium sent nothing for {self.timeout} s")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        """One command; returns its result (events arriving meanwhile go to self.events)."""
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._message())

    def open_page(self, path: Path, width: int = 1200, height: int = 900) -> "Page":
        """Load a local file in a new tab and wait for its load event (images decoded by then)."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.send("Page.navigate", session, url=Path(path).resolve().as_uri())
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session)


class Page:
    """A loaded tab: evaluate JavaScript, list console errors, take a screenshot."""

    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session

    def evaluate(self, expression: str):
        result = self.browser.send(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (failed loads) of this tab so far."""
        self.evaluate("1")  # flush the events sent before now
        found = []
        for e in self.browser.events:
            if e.get("sessionId") != self.session:
                continue
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append(
                    " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                )
            elif e["method"] == "Runtime.exceptionThrown":
                found.append(p["exceptionDetails"].get("text", "exception"))
            elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                found.append(p["entry"].get("text", "error"))
        return found

    def image_widths(self) -> list[int]:
        """naturalWidth of every <img> (0: not loaded)."""
        return self.evaluate("Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")

    def screenshot(self, path: Path, whole: bool = True) -> Path:
        """The whole page (or only the viewport) as PNG."""
        data = self.browser.send(
            "Page.captureScreenshot", self.session, format="png", captureBeyondViewport=whole
        )
        Path(path).write_bytes(base64.b64decode(data["data"]))
        return Path(path)
