"""align-report: the page's content, and the page itself in headless Chromium (Chrome DevTools Protocol)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

PREFACE = "PREFACE\nThis preface was never read aloud.\n\n"
SENTENCES = ["It was a bright cold day in April.", "The clocks were striking thirteen.",
             "Winston Smith slipped quickly through the glass doors.", "A swirl of gritty dust entered along with him.",
             "The hallway smelt of boiled cabbage and old rag mats.", "At one end a coloured poster was tacked to the wall."]
PAGE_NUMBER = "\n\n- 7 -\n\n"


def make_doc(tmp: Path):
    text = PREFACE + " ".join(SENTENCES[:3]) + PAGE_NUMBER + " ".join(SENTENCES[3:])
    script = tmp / "book.txt"
    script.write_text(text, encoding="utf-8")
    rate = 16000
    t = np.arange(rate * 20) / rate
    sf.write(tmp / "book.wav", (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, subtype="PCM_16")
    utts, fragments = [], []
    cers = [0.02, 0.31, 0.0, 0.12, 0.55, 0.05]
    for k, s in enumerate(SENTENCES):
        a = text.index(s)
        start, end = 1000.0 + 3000 * k + 0.5, 1000.0 + 3000 * k + 2500.25
        utts.append({"start": start, "end": end, "transcript": s.lower(), "text-start": a, "text-end": a + len(s),
                     "meta": {}, "aligned-raw": s, "aligned": s.lower().rstrip("."), "cer": cers[k], "wer": cers[k] * 2})
        fragments.append({"start": start, "end": end, "transcript": s.lower()})
    fragments += [{"start": 19000.0, "end": 19800.0, "transcript": "uh"}, {"start": 100.0, "end": 600.0, "transcript": "x"}]
    (tmp / "book.aligned").write_text(json.dumps(utts), encoding="utf-8")
    (tmp / "book.tlog").write_text(json.dumps(fragments), encoding="utf-8")
    return text, utts


def report(tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "align.cli.report", "--aligned", str(tmp / "book.aligned"),
                           "--script", str(tmp / "book.txt"), "--audio", str(tmp / "book.wav"),
                           "--tlog", str(tmp / "book.tlog"), "--output", str(tmp / "book.html"), *extra],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_page_content(tmp_path):
    text, utts = make_doc(tmp_path)
    r = report(tmp_path, "--filter", "cer > 0.3")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "book.html").read_text(encoding="utf-8")
    assert 'id="n-utterances">6<' in page and 'id="n-dropped">2<' in page and 'id="n-filtered">2<' in page
    assert page.count('class="u') == 6
    # unaligned text is marked: the preface and the page number
    gaps = re.findall(r'<span class="gap"[^>]*>(.*?)</span>', page, re.S)
    assert any("never read aloud" in g for g in gaps) and any("- 7 -" in g for g in gaps)
    assert "data:audio/wav;base64," in page          # self-contained: audio embedded
    assert "<script src" not in page and "<link rel=\"stylesheet\"" not in page
    r = report(tmp_path, "--link-audio")
    assert 'src="book.wav"' in (tmp_path / "book.html").read_text(encoding="utf-8")


def test_report_errors(tmp_path):
    make_doc(tmp_path)
    (tmp_path / "book.txt").write_text("short", encoding="utf-8")
    r = report(tmp_path)
    assert r.returncode == 1 and "outside" in r.stderr and "Traceback" not in r.stderr
    r = report(tmp_path, "--filter", "cre > 1")
    assert r.returncode == 2 and "unknown field 'cre'" in r.stderr


def test_catalog_pages(tmp_path):
    make_doc(tmp_path)
    (tmp_path / "c.json").write_text(json.dumps([{"audio": "book.wav", "script": "book.txt", "aligned": "book.aligned"},
                                                 {"audio": "gone.wav", "tlog": "book.tlog", "script": "book.txt",
                                                  "aligned": "gone.aligned"}]))
    r = subprocess.run([sys.executable, "-m", "align.cli.report", "--catalog", str(tmp_path / "c.json"), "--target-dir",
                        str(tmp_path / "pages"), "--metric", "wer"], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 1 and "1 pages written, 1 failed" in r.stderr and "gone.aligned" in r.stderr
    page = (tmp_path / "pages" / "book.html").read_text(encoding="utf-8")
    assert 'id="n-dropped">2<' in page and "wer (word error rate" in page     # book.tlog found beside the audio


class Browser:
    """Headless Chromium driven over the DevTools protocol (websocket-client)."""

    def __init__(self, profile: str):
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
             "--mute-audio", f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1200,900",
             "about:blank"],
            # Chromium puts its singleton socket folder in TMPDIR: keep it inside the test's folder
            env={**os.environ, "TMPDIR": profile},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url = None
        deadline = time.time() + 30
        assert self.proc.stderr is not None
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
                break
            if not line and self.proc.poll() is not None:
                break
        assert url, "Chromium did not start its DevTools endpoint"
        import urllib.request

        port = url.split(":")[2].split("/")[0]
        for _ in range(50):
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
            pages = [t for t in targets if t["type"] == "page"]
            if pages:
                break
            time.sleep(0.1)
        import websocket

        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30):
        deadline = time.time() + timeout
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def js(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.mark.chromium
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_page_in_headless_chromium(tmp_path):
    pytest.importorskip("websocket", reason="websocket-client is not installed (pip install websocket-client)")
    text, utts = make_doc(tmp_path)
    r = report(tmp_path)
    assert r.returncode == 0, r.stderr
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(profile)
        try:
            for domain in ("Page", "Runtime", "Log"):
                b.call(f"{domain}.enable")
            b.call("Page.navigate", url=(tmp_path / "book.html").as_uri())
            b.wait_event("Page.loadEventFired")
            # the audio's metadata must load for seeking to mean anything
            for _ in range(100):
                if b.js("document.getElementById('player').readyState") >= 1:
                    break
                time.sleep(0.05)
            assert b.js("document.getElementById('player').readyState") >= 1
            assert b.js("document.getElementById('player').duration") == pytest.approx(20.0, abs=0.01)
            # counts shown equal the .aligned file and the tlog
            assert b.js("document.getElementById('n-utterances').textContent") == str(len(utts))
            assert b.js("document.querySelectorAll('#text .u').length") == len(utts)
            assert b.js("document.getElementById('n-dropped').textContent") == "2"
            hours = sum(u["end"] - u["start"] for u in utts) / 3.6e6
            assert float(b.js("document.getElementById('hours').textContent")) == pytest.approx(hours, abs=1e-4)
            # a real mouse click on utterance 3 seeks the audio to its start
            for k in (3, 0):
                box = b.js(f"(() => {{ const e = document.getElementById('u{k}'); e.scrollIntoView({{block:'center'}}); "
                           f"const r = e.getClientRects()[0]; return [r.left + 3, r.top + r.height / 2]; }})()")
                for kind in ("mousePressed", "mouseReleased"):
                    b.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)
                t = b.js("document.getElementById('player').currentTime")
                assert utts[k]["start"] / 1000 - 0.001 <= t <= utts[k]["start"] / 1000 + 0.3, (k, t)
                assert b.js("document.querySelector('.u.current').id") == f"u{k}"
            # keyboard: from utterance 0, p walks to the next worse ones, n back to better
            expected_worst = sorted(range(len(utts)), key=lambda k: (-utts[k]["cer"], k))
            pos = expected_worst.index(0)
            order = []
            for key in "pppn":
                b.call("Input.dispatchKeyEvent", type="keyDown", key=key, text=key)
                b.call("Input.dispatchKeyEvent", type="keyUp", key=key)
                order.append(b.js("window.alignReport.current"))
            assert order == [expected_worst[pos - 1], expected_worst[pos - 2], expected_worst[pos - 3],
                             expected_worst[pos - 2]]
            t = b.js("document.getElementById('player').currentTime")
            assert utts[order[-1]]["start"] / 1000 - 0.001 <= t <= utts[order[-1]]["start"] / 1000 + 0.3
            b.js("document.getElementById('player').pause()")
            # playback stops at the utterance end (when this Chromium plays media at all)
            b.js("document.getElementById('u2').click()")
            time.sleep(0.3)
            if not b.js("document.getElementById('player').paused"):
                time.sleep((utts[2]["end"] - utts[2]["start"]) / 1000 + 0.3)
                assert b.js("document.getElementById('player').paused")
                t = b.js("document.getElementById('player').currentTime")
                assert utts[2]["end"] / 1000 - 0.01 <= t <= utts[2]["end"] / 1000 + 0.1, t
            shot = b.call("Page.captureScreenshot", format="png")
            out = Path(os.environ.get("ALIGN_REPORT_SCREENSHOT", tmp_path / "report.png"))
            out.write_bytes(__import__("base64").b64decode(shot["data"]))
            errors = [e for e in b.events if e.get("method") == "Runtime.exceptionThrown"
                      or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
                      or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
            assert errors == []
        finally:
            b.close()
