#!/usr/bin/env python3
"""Drives saed's dashboard in headless Chromium and fails on any console error.

Talks to Chromium over the DevTools protocol through --remote-debugging-pipe (file
descriptors 3 and 4, NUL-separated JSON messages), so it needs only the standard library.

Steps: open the page (with --token: enter the token in the box the page shows when saed
requires one, and check that it is asked for), paste a small job into the form and click Submit, wait until the live
loss chart shows an epoch (screenshot), wait for the job to succeed, open its model page and
wait for the feature grid, the reconstructions and the playground's code chart (screenshot),
then go back to the job list (screenshot). Any console error, uncaught exception or failed
request logged by the page fails the run.

usage: browser_test.py --url http://127.0.0.1:PORT --out DIR [--token TOKEN] [--chromium PATH]
"""

import argparse
import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SMALL_JOB = {
    "name": "browser-test",
    "dataset": {"name": "fashion-mnist", "split": "train", "limit": 2000},
    "validation": {"name": "fashion-mnist", "split": "test", "limit": 500},
    "model": {"hidden_size": 64},
    "sparsity": {"kind": "l1", "beta": 0.0003, "reduction": "mean"},
    "epochs": 2,
    "batch_size": 64,
    "seed": 3,
}


class Browser:
    """A headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, chromium, width, height):
        self.profile = tempfile.mkdtemp(prefix="saed-chromium-")
        to_child_read, self._to_child = os.pipe()
        self._from_child, from_child_write = os.pipe()

        def wire_pipes():
            # Chromium reads commands from fd 3 and writes replies and events to fd 4. Copy both
            # ends out of the way first, in case either already is fd 3 or 4.
            read_end, write_end = os.dup(to_child_read), os.dup(from_child_write)
            os.dup2(read_end, 3, inheritable=True)
            os.dup2(write_end, 4, inheritable=True)

        arguments = [
            chromium, "--headless=new", "--remote-debugging-pipe", "--disable-gpu",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--hide-scrollbars", f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
        ]
        if os.geteuid() == 0:
            arguments.append("--no-sandbox")  # Chromium refuses to sandbox as root
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.process = subprocess.Popen(arguments + ["about:blank"], preexec_fn=wire_pipes, close_fds=False,
                                         stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(to_child_read)
        os.close(from_child_write)

        self._next_id = 0
        self._replies = {}
        self._replied = threading.Condition()
        self.events = queue.Queue()
        self.problems = []  # console errors, exceptions, failed loads
        threading.Thread(target=self._read, daemon=True).start()

        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ["Page", "Runtime", "Log", "Network"]:
            self.call(domain + ".enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._replied:
                        self._replies[message["id"]] = message
                        self._replied.notify_all()
                else:
                    self._note(message)

    def _note(self, event):
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            self.problems.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description") or details.get("text")
            self.problems.append(f"uncaught exception: {description}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.problems.append(f"log error ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            self.problems.append(f"request failed: {params.get('errorText')}")
        self.events.put(event)

    def call(self, method, params=None, session=False, timeout=30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._replied:
            while message["id"] not in self._replies:
                if not self._replied.wait(timeout=max(deadline - time.monotonic(), 0.01)) and \
                        time.monotonic() > deadline:
                    raise TimeoutError(f"{method}: no reply in {timeout} s")
            reply = self._replies.pop(message["id"])
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.1)
        raise TimeoutError(f"waited {timeout} s for {what}")

    def navigate(self, url):
        self.call("Page.navigate", {"url": url}, session=True)

    def click(self, selector):
        box = self.evaluate(f"""(() => {{
            const element = document.querySelector({json.dumps(selector)});
            element.scrollIntoView({{block: "center"}});
            const r = element.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2];
        }})()""")
        for kind in ["mousePressed", "mouseReleased"]:
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1}, session=True)

    def type_into(self, selector, text):
        self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                      f"e.focus(); e.select(); }})()")
        self.call("Input.insertText", {"text": text}, session=True)

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params, session=True)["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        print(f"  screenshot {path}")

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def run(browser, url, out, token):
    started = time.monotonic()

    def step(text):
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    step("open the dashboard")
    browser.navigate(url + "/")
    if token:
        step("the page asks for the access token; enter it")
        browser.wait_for("!!document.getElementById('token-box') && !document.getElementById('token-box').hidden",
                         "the token box", timeout=15)
        browser.type_into("#token-input", token)
        browser.click("#token-submit")
        browser.wait_for("document.getElementById('token-box').hidden", "the token box to close", timeout=15)
    browser.wait_for("document.querySelectorAll('#example-select option').length > 1", "the example list")
    browser.wait_for("!!document.querySelector('#jobs-table tbody tr')", "the job list")

    step("paste a small job and submit it")
    browser.type_into("#job-json", json.dumps(SMALL_JOB, indent=2))
    browser.click("#submit-job")
    browser.wait_for("location.hash.startsWith('#/jobs/job_')", "the job page", timeout=15)
    job_id = browser.evaluate("decodeURIComponent(location.hash.slice('#/jobs/'.length))")
    step(f"job {job_id} submitted; waiting for the chart to show an epoch")
    browser.wait_for("document.querySelectorAll('#loss-chart path.curve').length >= 4 && "
                     "document.querySelectorAll('#loss-chart circle').length >= 4", "an epoch on the chart",
                     timeout=120)
    step("the chart shows an epoch")
    browser.screenshot(os.path.join(out, "job-running.png"))

    browser.wait_for("document.querySelector('#job-state')?.textContent === 'succeeded' && "
                     "!!document.querySelector('#job-model a')", "the job to succeed", timeout=180)
    curves = browser.evaluate("document.querySelectorAll('#loss-chart path.curve').length")
    points = browser.evaluate("document.querySelectorAll('#loss-chart circle').length")
    step(f"job succeeded: {curves} curves, {points} points")
    if points != curves * SMALL_JOB["epochs"]:
        raise AssertionError(f"expected {SMALL_JOB['epochs']} points per curve, got {points} for {curves} curves")
    browser.screenshot(os.path.join(out, "job.png"))

    step("open the model page")
    browser.click("#job-model a")
    loaded = "(id) => { const i = document.getElementById(id); return !!i && i.complete && i.naturalWidth > 0; }"
    browser.wait_for(f"({loaded})('features-img') && ({loaded})('reconstructions-img')", "the pictures",
                     timeout=60)
    browser.wait_for("document.querySelectorAll('#code-chart rect.code-bar').length > 0", "the code chart")
    size = browser.evaluate("[document.getElementById('features-img').naturalWidth, "
                            "document.getElementById('features-img').naturalHeight]")
    step(f"model page drawn: feature grid {size[0]}×{size[1]} px")

    step("encode another test image in the playground")
    browser.click("#pg-next")
    browser.wait_for("document.querySelector('#pg-body .figure div')?.textContent === 'input #1'",
                     "test image 1")
    browser.screenshot(os.path.join(out, "model.png"))

    step("back to the job list")
    browser.click("header nav a")
    browser.wait_for(f"[...document.querySelectorAll('#jobs-table tbody tr')].some(r => "
                     f"r.textContent.includes({json.dumps(job_id)}) && r.textContent.includes('succeeded'))",
                     "the finished job in the list")
    browser.wait_for("document.querySelectorAll('#models-table tbody a').length > 0", "the model in the list")
    browser.screenshot(os.path.join(out, "home.png"), full_page=False)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--token", help="the bearer token saed was started with, if any")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    arguments = parser.parse_args()
    os.makedirs(arguments.out, exist_ok=True)

    browser = Browser(arguments.chromium, 1280, 900)
    try:
        seconds = run(browser, arguments.url.rstrip("/"), arguments.out, arguments.token)
        time.sleep(0.5)  # let late console messages arrive
    except Exception as error:
        browser.screenshot(os.path.join(arguments.out, "failure.png"), full_page=False)
        print(f"FAILED: {error}", file=sys.stderr)
        for problem in browser.problems:
            print(f"  {problem}", file=sys.stderr)
        browser.close()
        return 1
    browser.close()
    if browser.problems:
        print("FAILED: the page logged errors:", file=sys.stderr)
        for problem in browser.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"browser test passed in {seconds:.1f} s, no console errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
