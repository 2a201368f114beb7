"""The review page: the original text with every utterance highlighted, coloured by a metric.

Everything (style, script, data, optionally the audio as a data: URI) is inside one HTML file.
Clicking an utterance plays exactly its audio span; `n`/`p` (or j/k) jump to the next/previous
worst utterance by the chosen metric; text no utterance covers is struck through in grey.
"""

from __future__ import annotations

import base64
import html
import json
import math
import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from ..text.metrics import METRIC_IDS, METRIC_NAMES

# Lower is better for these; higher for the similarities. Lengths cannot colour a page.
LOWER_BETTER = frozenset({"cer", "wer"})
COLOUR_METRICS = tuple(m for m in METRIC_IDS if m not in ("tlen", "mlen"))
PREFERRED = ("cer", "wer", "wng", "sws", "levenshtein", "jaro_winkler", "editex", "mra", "hamming")
HIST_BINS = 20
AUDIO_MIME = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
              ".opus": "audio/ogg", ".m4a": "audio/mp4", ".webm": "audio/webm"}


@dataclass(frozen=True)
class ReportParams:
    metric: Optional[str] = None          # None: the first of PREFERRED in the file
    filter: Optional[str] = None          # mark utterances an export with this --filter would drop
    embed_audio: Optional[bool] = None    # None: embed up to EMBED_LIMIT bytes, else link
    embed_limit: int = 50 * 1024 * 1024


@dataclass
class ReportData:
    title: str
    original: str
    utterances: Sequence[Any]
    audio: Optional[Path] = None
    audio_seconds: Optional[float] = None
    fragments: Optional[Sequence[tuple[float, float]]] = None     # tlog fragments (ms), for the dropped count
    filtered: set[int] = field(default_factory=set)              # utterance indexes the --filter drops


def choose_metric(utterances: Sequence[Any], wanted: Optional[str]) -> Optional[str]:
    have = set()
    for u in utterances:
        have.update(u.metrics)
    if wanted is not None:
        return wanted if wanted in have else None
    return next((m for m in PREFERRED if m in have), None)


def goodness(metric: Optional[str], value: Optional[float]) -> Optional[float]:
    """0 (worst) .. 1 (best) for colouring and ordering."""
    if metric is None or value is None or not math.isfinite(value):
        return None
    # Error rates above 0.5 and similarities below 0.5 are equally useless for training: the scale
    # spends all its colours on the half that matters.
    g = 1.0 - 2.0 * value if metric in LOWER_BETTER else 2.0 * value - 1.0
    return min(1.0, max(0.0, g))


def dropped_fragments(fragments: Sequence[tuple[float, float]], utterances: Sequence[Any]) -> int:
    """Fragments whose midpoint lies in no kept utterance (merged sentences cover several fragments)."""
    spans = sorted((u.start, u.end) for u in utterances)
    import bisect

    starts = [s for s, _ in spans]
    n = 0
    for a, b in fragments:
        mid = (a + b) / 2
        k = bisect.bisect_right(starts, mid) - 1
        if k < 0 or spans[k][1] < mid:
            n += 1
    return n


def _histogram(metric: Optional[str], utterances: Sequence[Any]) -> tuple[list[float], float, float]:
    """Hours of audio per metric bin over [lo, hi]."""
    vals = [(u.metrics.get(metric), (u.end - u.start) / 3.6e6) for u in utterances] if metric else []
    vals = [(v, h) for v, h in vals if v is not None and math.isfinite(v)]
    if not vals:
        return [], 0.0, 1.0
    lo = min(0.0, min(v for v, _ in vals))
    hi = max(1.0, max(v for v, _ in vals))
    bins = [0.0] * HIST_BINS
    for v, h in vals:
        k = min(HIST_BINS - 1, int((v - lo) / (hi - lo) * HIST_BINS))
        bins[k] += h
    return bins, lo, hi


def _svg_histogram(bins: list[float], lo: float, hi: float, metric: str) -> str:
    if not bins:
        return ""
    w, h, pad = 420, 120, 24
    top = max(bins) or 1.0
    bw = (w - 2 * pad) / len(bins)
    bars = []
    for k, v in enumerate(bins):
        bh = (h - 2 * pad) * v / top
        x = pad + k * bw
        mid = lo + (k + 0.5) * (hi - lo) / len(bins)
        g = goodness(metric, mid)
        bars.append(f'<rect x="{x:.1f}" y="{h - pad - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" '
                    f'fill="{_colour(g)}"><title>{lo + k * (hi - lo) / len(bins):.2f}–'
                    f'{lo + (k + 1) * (hi - lo) / len(bins):.2f}: {v * 60:.2f} min</title></rect>')
    return (f'<svg id="histogram" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="hours of audio per {html.escape(metric)} value">'
            f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#555"/>'
            + "".join(bars) +
            f'<text x="{pad}" y="{h - 6}" font-size="11">{lo:g}</text>'
            f'<text x="{w - pad}" y="{h - 6}" font-size="11" text-anchor="end">{hi:g}</text>'
            f'<text x="{w / 2}" y="{h - 6}" font-size="11" text-anchor="middle">{html.escape(metric)} '
            f'(hours of audio per bin; max {top * 60:.1f} min)</text></svg>')


def _colour(g: Optional[float]) -> str:
    if g is None:
        return "hsl(210, 60%, 85%)"
    return f"hsl({120 * g:.0f}, 70%, {82 - 8 * (1 - g):.0f}%)"


def _audio_src(audio: Optional[Path], out: Path, params: ReportParams) -> str:
    if audio is None:
        return ""
    size = audio.stat().st_size
    embed = params.embed_audio if params.embed_audio is not None else size <= params.embed_limit
    if embed:
        mime = AUDIO_MIME.get(audio.suffix.lower()) or mimetypes.guess_type(audio.name)[0] or "audio/wav"
        return f"data:{mime};base64," + base64.b64encode(audio.read_bytes()).decode("ascii")
    rel = os.path.relpath(audio.resolve(), out.resolve().parent)
    return "/".join(rel.split(os.sep))


def render(data: ReportData, out: Path, params: ReportParams = ReportParams()) -> str:
    """The HTML text of the page for one document (written next to `out`, for relative audio links)."""
    metric = choose_metric(data.utterances, params.metric)
    text = data.original
    utts = data.utterances
    order = sorted(range(len(utts)), key=lambda k: (utts[k].text_start, k))
    pieces: list[str] = []
    pos = 0
    unaligned_chars = 0
    items = []
    for k in order:
        u = utts[k]
        a, b = max(u.text_start, pos), max(u.text_end, pos)
        a, b = min(a, len(text)), min(b, len(text))
        if a > pos:
            gap = text[pos:a]
            if gap.strip():
                unaligned_chars += len(gap.strip())
                pieces.append(f'<span class="gap" title="not aligned">{html.escape(gap)}</span>')
            else:
                pieces.append(html.escape(gap))
        v = u.metrics.get(metric) if metric else None
        g = goodness(metric, v)
        cls = "u dropped" if k in data.filtered else "u"
        label = f"{u.start / 1000:.2f}–{u.end / 1000:.2f} s" + (f", {metric} {v:.3f}" if v is not None else "")
        pieces.append(f'<span class="{cls}" id="u{k}" data-i="{k}" style="background:{_colour(g)}" '
                      f'title="{html.escape(label)}">{html.escape(text[a:b])}</span>')
        items.append({"i": k, "start": u.start / 1000.0, "end": u.end / 1000.0,
                      "value": v, "good": g, "dropped": k in data.filtered})
        pos = b
    if pos < len(text):
        tail = text[pos:]
        if tail.strip():
            unaligned_chars += len(tail.strip())
            pieces.append(f'<span class="gap" title="not aligned">{html.escape(tail)}</span>')
        else:
            pieces.append(html.escape(tail))
    items.sort(key=lambda it: it["i"])
    hours = sum((u.end - u.start) for u in utts) / 3.6e6
    kept = len(utts) - len(data.filtered)
    dropped_align = dropped_fragments(data.fragments, utts) if data.fragments is not None else None
    text_chars = sum(1 for c in text if not c.isspace())
    bins, lo, hi = _histogram(metric, utts)
    summary = [
        ("utterances", f'<b id="n-utterances">{len(utts)}</b>'),
        ("hours aligned", f'<b id="hours">{hours:.4f}</b>' +
         (f' of <span id="audio-hours">{data.audio_seconds / 3600:.4f}</span> h audio' if data.audio_seconds else "")),
        ("kept", f'<b id="n-kept">{kept}</b>' + (f' (filter <code>{html.escape(params.filter)}</code> drops '
                                                 f'<b id="n-filtered">{len(data.filtered)}</b>)' if params.filter else "")),
        ("dropped fragments", f'<b id="n-dropped">{dropped_align}</b> of {len(data.fragments)} in the transcript log'
         if data.fragments is not None else '<span id="n-dropped">unknown (give --tlog)</span>'),
        ("text not aligned", f'<b id="unaligned-pct">{100.0 * unaligned_chars / max(text_chars, 1):.1f}</b>% of the '
         f'characters'),
        ("colour", html.escape(f"{metric} ({METRIC_NAMES.get(metric, metric)}; "
                               f"{'lower' if metric in LOWER_BETTER else 'higher'} is better)") if metric
         else "no metric in the file (align with --output-cer)"),
    ]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in summary)
    src = _audio_src(data.audio, out, params)
    payload = json.dumps({"items": items, "metric": metric}, separators=(",", ":"))
    return _TEMPLATE.format(
        title=html.escape(data.title), rows=rows, histogram=_svg_histogram(bins, lo, hi, metric) if metric else "",
        audio=(f'<audio id="player" controls preload="auto" src="{html.escape(src)}"></audio>' if src
               else '<audio id="player"></audio><p class="warn">no audio given (--audio)</p>'),
        text="".join(pieces), payload=payload.replace("</", "<\\/"), script=_SCRIPT)


_SCRIPT = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const player = document.getElementById("player");
const byIndex = new Map(DATA.items.map(it => [it.i, it]));
// worst first: lowest goodness; utterances without a value last, then in text order
const worst = DATA.items.slice().sort((a, b) =>
  ((a.good ?? 2) - (b.good ?? 2)) || (a.start - b.start)).map(it => it.i);
let current = -1;      // position in `worst`
let stopAt = null;

function select(i) {
  document.querySelectorAll(".u.current").forEach(el => el.classList.remove("current"));
  const el = document.getElementById("u" + i);
  if (el) { el.classList.add("current"); el.scrollIntoView({block: "center"}); }
  const it = byIndex.get(i);
  document.getElementById("status").textContent = it ?
    `utterance ${i}: ${it.start.toFixed(2)}–${it.end.toFixed(2)} s` +
    (it.value !== null ? `, ${DATA.metric} ${it.value.toFixed(3)}` : "") +
    ` (rank ${worst.indexOf(i) + 1} of ${worst.length} from the worst)` : "";
}

function play(i) {
  const it = byIndex.get(i);
  if (!it || !player.src) return;
  select(i);
  stopAt = it.end;
  player.currentTime = it.start;
  const p = player.play();
  if (p && p.catch) p.catch(() => {});     // no audio device or autoplay policy: the seek still happened
}

// timeupdate fires only every ~250 ms: poll once per frame while a span plays to stop on time.
function watch() {
  if (stopAt === null) return;
  if (player.currentTime >= stopAt) { player.pause(); stopAt = null; return; }
  if (!player.paused) requestAnimationFrame(watch);
}
player.addEventListener("playing", () => requestAnimationFrame(watch));
player.addEventListener("timeupdate", watch);

document.getElementById("text").addEventListener("click", ev => {
  const el = ev.target.closest(".u");
  if (!el) return;
  const i = Number(el.dataset.i);
  current = worst.indexOf(i);
  play(i);
});

document.addEventListener("keydown", ev => {
  if (ev.altKey || ev.ctrlKey || ev.metaKey || !worst.length) return;
  if (ev.key === "n" || ev.key === "j") { current = Math.min(current + 1, worst.length - 1); play(worst[current]); }
  else if (ev.key === "p" || ev.key === "k") { current = Math.max(current - 1, 0); play(worst[current]); }
  else if (ev.key === " " && current >= 0) { ev.preventDefault(); play(worst[current]); }
  else return;
  ev.preventDefault();
});
window.alignReport = {worst, play, get current() { return current < 0 ? null : worst[current]; }};
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – alignment review</title>
<link rel="icon" href="data:,">
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #222; }}
header {{ position: sticky; top: 0; background: #fafafa; border-bottom: 1px solid #ccc; padding: 8px 16px;
         display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; z-index: 1; }}
header h1 {{ font-size: 17px; margin: 0 0 4px; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th {{ text-align: left; padding-right: 10px; font-weight: normal; color: #555; }}
#text {{ white-space: pre-wrap; padding: 16px; max-width: 60em; font-family: Georgia, serif; font-size: 16px; }}
.u {{ cursor: pointer; border-radius: 3px; box-decoration-break: clone; -webkit-box-decoration-break: clone;
      padding: 1px 0; }}
.u:hover {{ outline: 1px solid #333; }}
.u.current {{ outline: 2px solid #0050d0; }}
.u.dropped {{ text-decoration: line-through 2px #b00; }}
.gap {{ color: #888; background: repeating-linear-gradient(45deg, #eee, #eee 4px, #ddd 4px, #ddd 8px);
        text-decoration: line-through; }}
#status {{ font-size: 13px; color: #333; min-height: 1.2em; }}
.keys {{ font-size: 12px; color: #666; }}
kbd {{ border: 1px solid #aaa; border-radius: 3px; padding: 0 3px; background: #fff; }}
.warn {{ color: #b00; }}
</style>
</head>
<body>
<header>
<div>
<h1>{title}</h1>
<table id="summary">{rows}</table>
</div>
<div>{histogram}</div>
<div>
{audio}
<div id="status"></div>
<div class="keys">click an utterance to play it; <kbd>n</kbd>/<kbd>j</kbd> next worst, <kbd>p</kbd>/<kbd>k</kbd>
previous, <kbd>space</kbd> replay; <span class="gap">struck grey</span>: text not aligned</div>
</div>
</header>
<main id="text">{text}</main>
<script type="application/json" id="data">{payload}</script>
<script>{script}</script>
</body>
</html>
"""
