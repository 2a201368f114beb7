"""A threshold chosen from the run's own scores, without labels (`threshold: auto`).

Margin scales differ between embedding models (synthetic planted pairs sit near 1.3, a small
multilingual text encoder's near 1.05), so no fixed default holds. Two label-free estimators:

* `mixture`: the candidates' scores (each row's best pick, after the mine type) are a mix of
  translations (high) and rows whose best candidate is only the least bad non-translation
  (low). A two-component Gaussian mixture is fitted by EM and the cut is where the posterior of
  the high component is 0.5, between the two means. The fit is rejected when the components are
  not separated, or when the low one lies above 99 % of the runner-ups (below): then nearly every
  row has a translation and the fit split the translations in two.
* `runner_up`: each query row's runner-up (its best candidate among those not extracted) is a
  non-translation, and the best candidate of a row without a translation is drawn from the
  same distribution (the best of many non-translations). The runner-ups are therefore a null
  sample for the picked scores: false picks above t are estimated as #(runner-up >= t) (as if
  every row could be a false pick: conservative; estimating the share of rows without a
  translation from the low scores was biased, because a row's runner-up is the second best of
  its non-translations and so a little lower than the best), true picks as the rest, and the
  cut maximises the F1 estimated from those counts.

Both return a `Decision` with the threshold, the method and the fitted numbers, which go into
summary.json and the log. A fit that fails (too few scores, one component) falls back to the
other method, and then to FALLBACK with a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

FALLBACK = 1.06  # the former fixed default, used only when no fit is possible
MIN_SCORES = 20


@dataclass(frozen=True)
class Decision:
    threshold: float
    method: str  # fixed | mixture | runner_up | fallback
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"threshold": round(self.threshold, 6), "method": self.method, **self.details}


def _finite(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v[np.isfinite(v)]


def fit_mixture(values: np.ndarray, iters: int = 300, tol: float = 1e-9) -> Optional[dict]:
    """Two-component 1-D Gaussian mixture by EM (deterministic start from quantiles)."""
    v = _finite(values)
    if len(v) < MIN_SCORES or np.ptp(v) <= 0:
        return None
    lo, hi = np.quantile(v, [0.25, 0.9])
    if hi <= lo:
        return None
    mu = np.array([lo, hi])
    sd = np.full(2, max(np.std(v) / 2, 1e-6))
    w = np.array([0.5, 0.5])
    ll_old = -np.inf
    floor = max(np.ptp(v) * 1e-4, 1e-9)
    for _ in range(iters):
        dens = w / (sd * math.sqrt(2 * math.pi)) * np.exp(-0.5 * ((v[:, None] - mu) / sd) ** 2)
        tot = dens.sum(axis=1) + 1e-300
        ll = float(np.log(tot).sum())
        resp = dens / tot[:, None]
        nk = resp.sum(axis=0) + 1e-12
        w = nk / len(v)
        mu = (resp * v[:, None]).sum(axis=0) / nk
        sd = np.sqrt((resp * (v[:, None] - mu) ** 2).sum(axis=0) / nk)
        sd = np.maximum(sd, floor)
        if ll - ll_old < tol * abs(ll):
            break
        ll_old = ll
    order = np.argsort(mu)
    return {"weights": w[order].tolist(), "means": mu[order].tolist(), "sds": sd[order].tolist(),
            "log_likelihood": ll}


def mixture_cut(fit: dict) -> Optional[float]:
    """The score between the two means where the high component's posterior crosses 0.5."""
    (w0, w1), (m0, m1), (s0, s1) = fit["weights"], fit["means"], fit["sds"]
    if min(w0, w1) < 0.01 or m1 - m0 < 0.5 * max(s0, s1):
        return None  # one component only: no separation to cut
    x = np.linspace(m0, m1, 4001)
    log_p0 = math.log(w0) - math.log(s0) - 0.5 * ((x - m0) / s0) ** 2
    log_p1 = math.log(w1) - math.log(s1) - 0.5 * ((x - m1) / s1) ** 2
    above = np.nonzero(log_p1 >= log_p0)[0]
    if len(above) == 0:
        return None
    # last crossing from below: the high component wins from here up to its mean
    lose = np.nonzero(log_p1 < log_p0)[0]
    i = int(lose[-1] + 1) if len(lose) else 0
    return float(x[min(i, len(x) - 1)])


def null_cut(best: np.ndarray, runner_up: np.ndarray) -> Optional[tuple[float, dict]]:
    """Threshold with the best F1 estimated from the runner-ups as a null sample (see module doc)."""
    b = np.sort(_finite(best))
    r = np.sort(_finite(runner_up))
    if len(b) < MIN_SCORES or len(r) < MIN_SCORES:
        return None
    cand = np.unique(b)
    n_b = len(b) - np.searchsorted(b, cand, side="left")  # picks >= t
    n_r = (len(r) - np.searchsorted(r, cand, side="left")) * (len(b) / len(r))
    fp = np.minimum(n_r, n_b)
    tp = n_b - fp
    positives = max(float(tp.max()), 1.0)
    f1 = 2 * tp / (n_b + positives)
    i = int(np.argmax(f1))
    return float(cand[i]), {"estimated_f1": round(float(f1[i]), 4),
                            "estimated_precision": round(float(tp[i] / max(n_b[i], 1)), 4),
                            "estimated_true_pairs": int(round(positives)), "null_samples": int(len(r))}


def _sf(x: np.ndarray, m: float, s: float) -> np.ndarray:
    """Gaussian survival function P(X >= x)."""
    from math import erfc

    return np.array([0.5 * erfc((v - m) / (s * math.sqrt(2))) for v in np.atleast_1d(x)])


def mixture_f1_cut(fit: dict, values: np.ndarray, kept: np.ndarray,
                   null: Optional[np.ndarray] = None) -> Optional[tuple[float, dict]]:
    """The cut with the best F1 estimated from the mixture, counted on the pairs that are kept
    after the one-to-one step (`kept`, their scores at no threshold).

    One-to-one removes most non-translation candidates (their row was already taken by a better
    pair). Their survival rate q is measured below the low component's mean m0 (kept / all
    candidates there); the kept non-translations are about q*n_all*w0 and the kept translations
    T = min(len(kept) - q*n_all*w0, n_all*w1). Above a cut t, false pairs are q*n_all*w0*P0(score >= t), true
    ones the rest (at most T). P0 is the
    runner-ups' empirical tail when there are enough of them (the best of many non-translations
    has a heavier right tail than the fitted Gaussian), else the Gaussian's."""
    (w0, w1), (m0, _), (s0, _) = fit["weights"], fit["means"], fit["sds"]
    k = np.sort(_finite(kept))
    a = np.sort(_finite(values))
    n_all = len(a)
    if len(k) < MIN_SCORES or len(a) < MIN_SCORES:
        return None
    # survival of non-translations, measured below the low component's mean (almost only
    # non-translations there): kept / all candidates
    below_all = np.searchsorted(a, m0, side="left")
    if below_all == 0:
        return None
    q = min(1.0, float(np.searchsorted(k, m0, side="left")) / below_all)
    # translations among the kept pairs: two estimates that can only be too high, the smaller wins.
    # kept - q*n_all*w0 (q is measured where non-translations score lowest, and high-scoring ones
    # survive more often); n_all*w1, the translation-like candidates before one_to_one (which also
    # removes some of them, e.g. a semantic twin's pick of its sibling's translation)
    trans = max(0.0, min(len(k) - q * n_all * w0, n_all * w1))
    cand = np.unique(k)
    n_kept = len(k) - np.searchsorted(k, cand, side="left")
    r = np.sort(_finite(null)) if null is not None else np.empty(0)
    if len(r) >= MIN_SCORES:
        tail = (len(r) - np.searchsorted(r, cand, side="left")) / len(r)
    else:
        tail = _sf(cand, m0, s0)
    fp = np.minimum(q * n_all * w0 * tail, n_kept)
    tp = np.minimum(n_kept - fp, trans)  # never more true pairs than translations
    f1 = 2 * tp / (n_kept + max(trans, 1.0))
    i = int(np.argmax(f1))
    return float(cand[i]), {"survival_of_non_translations": round(float(q), 4), "estimated_f1": round(float(f1[i]), 4),
                            "estimated_translations": int(round(trans))}


def decide(values: np.ndarray, best: np.ndarray, runner_up: np.ndarray, method: str,
           fixed: Optional[float] = None, kept: Optional[np.ndarray] = None) -> Decision:
    """The threshold for this run: `fixed` if given, else by `method` with fallbacks. `kept`: the
    scores of the pairs one-to-one keeps at no threshold (None without that step)."""
    if fixed is not None:
        return Decision(float(fixed), "fixed")
    tried = []
    for m in (method, "runner_up" if method == "mixture" else "mixture"):
        if m == "mixture":
            fit = fit_mixture(values)
            cut = mixture_cut(fit) if fit else None
            null = _finite(runner_up)
            if cut is not None and len(null) >= MIN_SCORES and fit["means"][0] > np.quantile(null, 0.99):
                # the low component is not made of non-translations (its mean lies above almost every
                # runner-up): nearly every row is translated, and the fit split the translations
                cut = None
            extra = {"cut": "posterior 0.5"}
            if cut is not None and kept is not None:
                got = mixture_f1_cut(fit, values, kept, runner_up)
                if got is not None:
                    cut, extra = got[0], {"cut": "best estimated F1 after one_to_one", **got[1]}
            if cut is not None:
                return Decision(cut, "mixture", {**extra, "fit": {k: ([round(x, 6) for x in v] if isinstance(v, list)
                                                             else round(v, 3)) for k, v in fit.items()},
                                                 "scores": int(len(_finite(values))), "tried": tried})
        else:
            got = null_cut(best, runner_up)
            if got is not None:
                return Decision(got[0], "runner_up", {**got[1], "tried": tried})
        tried.append(m)
    return Decision(FALLBACK, "fallback", {"tried": tried})
