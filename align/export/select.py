"""Which utterances go into which list: quality, filter, partitions, de-biasing, train/dev/test split.

Order (as in the reference exporter): quality = `--criteria`; drop where `--filter` is true; read
the meta fields that de-biasing and splitting need (drop multiple/unknown values if asked);
partition by quality; de-bias; split. Everything is deterministic: no unseeded randomness.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from ..common.errors import UsageError, UserError
from ..text.metrics import METRIC_IDS
from .expr import Expression, ExprEvalError, MissingField, compile_expr
from .records import Utterance

UNKNOWN = "<UNKNOWN>"
SETS = ("train", "dev", "test")
OTHER = "other"
ALL = "all"

# Fields every expression may read; `quality` only in --filter (it is what --criteria computes).
BASE_FIELDS = ("start", "end", "duration", "transcript", "aligned", "raw", "aligned_raw", "text_start",
               "text_end", "text_length", "index", "doc", "id") + METRIC_IDS


@dataclass(frozen=True)
class Partition:
    threshold: float
    name: str

    @classmethod
    def parse(cls, spec: str) -> "Partition":
        number, sep, name = spec.partition(":")
        try:
            threshold = float(number)
        except ValueError:
            threshold = math.nan
        if not sep or not name or math.isnan(threshold):
            raise UsageError(f"--partition {spec!r}: expected NUMBER:NAME, e.g. 0.9:good")
        if name in (OTHER, ALL) or any(c in name for c in "/\\\0") or name.startswith("."):
            raise UsageError(f"--partition {spec!r}: {name!r} cannot be a partition name")
        return cls(threshold, name)


@dataclass(frozen=True)
class SelectConfig:
    filter: Optional[str] = None              # drop utterances where true
    criteria: Optional[str] = None            # quality; default 1
    partitions: tuple[Partition, ...] = ()
    debias: tuple[str, ...] = ()
    debias_sigma_factor: float = 3.0
    split: bool = False
    split_field: Optional[str] = None
    split_seed: int = 0
    split_drop_multiple: bool = False
    split_drop_unknown: bool = False
    assign_train: tuple[str, ...] = ()
    assign_dev: tuple[str, ...] = ()
    assign_test: tuple[str, ...] = ()

    def validate(self) -> None:
        """Usage errors before any work: expressions compile, partitions and assignments are consistent."""
        self.compiled()
        names = [p.name for p in self.partitions]
        if len(set(names)) != len(names):
            raise UsageError(f"--partition: a name is given twice ({', '.join(names)})")
        if (self.assign_train or self.assign_dev or self.assign_test) and not self.split_field:
            raise UsageError("--assign-train/-dev/-test need --split-field")
        if (self.split_field or self.split_drop_multiple or self.split_drop_unknown) and not self.split:
            raise UsageError("--split-field/--split-drop-multiple/--split-drop-unknown need --split")
        seen: dict[str, str] = {}
        for s, values in zip(SETS, (self.assign_train, self.assign_dev, self.assign_test)):
            for v in values:
                if v in seen and seen[v] != s:
                    raise UsageError(f"--assign-{seen[v]} and --assign-{s} both name {v!r}")
                seen[v] = s
        if not self.debias_sigma_factor >= 0:
            raise UsageError(f"--debias-sigma-factor must be >= 0, got {self.debias_sigma_factor}")

    def compiled(self) -> tuple[Optional[Expression], Optional[Expression]]:
        crit = compile_expr(self.criteria, BASE_FIELDS, "--criteria") if self.criteria else None
        filt = compile_expr(self.filter, BASE_FIELDS + ("quality",), "--filter") if self.filter else None
        return crit, filt


@dataclass
class Sample:
    """One selected utterance and where it goes."""

    doc: int                 # index of its document
    doc_id: str
    index: int               # index within the document's .aligned file
    utt: Utterance
    quality: float = 1.0
    entity: Optional[str] = None    # split-field value (component representative)
    values: dict[str, list[str]] = field(default_factory=dict)   # meta field -> values
    partition: str = ALL
    list_name: str = ALL

    @property
    def uid(self) -> str:
        # Computed from the (de-duplicated) document id rather than read from the file, so that two
        # catalog entries with the same audio stem never share clip names; equal to align's id otherwise.
        return f"{self.doc_id}-{self.index:06d}"

    @property
    def duration_s(self) -> float:
        return (self.utt.end - self.utt.start) / 1000.0


@dataclass
class Selection:
    lists: dict[str, list[Sample]]        # list name -> samples in document order
    dropped: Counter                      # reason -> count
    total: int                            # utterances read

    def summary_lines(self) -> list[str]:
        kept = sum(len(v) for v in self.lists.values())
        lines = [f"utterances: {self.total}, selected: {kept}, dropped: {self.total - kept}"]
        for reason, c in sorted(self.dropped.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  dropped, {reason}: {c}")
        for name, samples in self.lists.items():
            hours = sum(s.duration_s for s in samples) / 3600
            lines.append(f"  {name}: {len(samples)} utterances, {hours:.3f} h")
        return lines


def field_lookup(utt: Utterance, doc_id: str, index: int, quality: Optional[float] = None) -> Callable[[str], Any]:
    """Field name -> value of one utterance, as the expression language sees it."""
    def lookup(name: str) -> Any:
        if name.startswith("meta."):
            v = utt.meta.get(name[5:])
            if isinstance(v, list):
                return v[0] if v else None
            return v
        if name in utt.metrics:
            return utt.metrics[name]
        if name == "quality" and quality is not None:
            return quality
        simple = {
            "start": lambda: utt.start, "end": lambda: utt.end,
            "duration": lambda: (utt.end - utt.start) / 1000.0,
            "transcript": lambda: utt.transcript, "aligned": lambda: utt.aligned,
            "raw": lambda: utt.aligned_raw, "aligned_raw": lambda: utt.aligned_raw,
            "text_start": lambda: utt.text_start, "text_end": lambda: utt.text_end,
            "text_length": lambda: utt.text_end - utt.text_start,
            "index": lambda: index, "doc": lambda: doc_id, "id": lambda: f"{doc_id}-{index:06d}",
        }
        if name in simple:
            return simple[name]()
        raise MissingField(name)
    return lookup


def sample_size(population: int) -> int:
    """Dev/test size for a partition of `population` utterances (the reference exporter's rule).

    Cochran's sample size for a 99% confidence level (z = 2.58), a 1% margin and p = 0.5, with the
    finite-population correction applied to the train size: the largest train size t with
    2 * s(t) + t <= population, where s(t) = int(z² p (1-p) / e² / (1 + z² p (1-p) / e² / t)).
    """
    numerator = round(2.58 ** 2 * 0.25 / 0.01 ** 2)   # 16641
    for train in range(population, 0, -1):
        s = int(numerator / (1 + numerator / train))
        if 2 * s + train <= population:
            return s
    return 0


def meta_values(utt: Utterance, key: str) -> list[str]:
    v = utt.meta.get(key)
    if v is None:
        return []
    vals = v if isinstance(v, list) else [v]
    out: list[str] = []
    for x in vals:
        sx = x if isinstance(x, str) else str(x)
        if sx not in out:
            out.append(sx)
    return out


def select(docs: Sequence[tuple[str, Sequence[Utterance]]], cfg: SelectConfig,
           where: Sequence[str] | None = None) -> Selection:
    """Select and assign the utterances of `docs` (document id, utterances) to lists."""
    crit, filt = cfg.compiled()
    dropped: Counter = Counter()
    samples: list[Sample] = []
    total = 0
    fields_needed = list(dict.fromkeys(cfg.debias + ((cfg.split_field,) if cfg.split_field else ())))
    for d, (doc_id, utts) in enumerate(docs):
        for i, u in enumerate(utts):
            total += 1
            quality = 1.0
            try:
                if crit is not None:
                    q = crit.evaluate(field_lookup(u, doc_id, i))
                    if isinstance(q, bool) or not isinstance(q, (int, float)) or math.isnan(q):
                        raise ExprEvalError(f"--criteria must give a number, gave {q!r}")
                    quality = float(q)
                if filt is not None and filt.evaluate(field_lookup(u, doc_id, i, quality)):
                    dropped["filter"] += 1
                    continue
            except MissingField as e:
                src = where[d] if where else doc_id
                name = str(e)
                hint = f" (align with --output-{name})" if name in METRIC_IDS else ""
                raise UserError(f"{src}: utterance {i} has no field {name!r} used in the expression{hint}") from None
            except ExprEvalError as e:
                src = where[d] if where else doc_id
                raise UserError(f"{src}: utterance {i}: {e}") from None
            s = Sample(d, doc_id, i, u, quality)
            s.values = {f: meta_values(u, f) for f in fields_needed}
            if cfg.split_field:
                vals = s.values[cfg.split_field]
                if len(vals) > 1 and cfg.split_drop_multiple:
                    dropped[f"several {cfg.split_field} values"] += 1
                    continue
                if not vals and cfg.split_drop_unknown:
                    dropped[f"no {cfg.split_field} value"] += 1
                    continue
            samples.append(s)

    parts = sorted(cfg.partitions, key=lambda p: -p.threshold)
    for s in samples:
        s.partition = ALL if not parts else next((p.name for p in parts if s.quality >= p.threshold), OTHER)

    for f in cfg.debias:
        samples = debias(samples, f, cfg.debias_sigma_factor, dropped)

    lists = split(samples, cfg, [p.name for p in parts])
    return Selection(lists, dropped, total)


def debias(samples: list[Sample], key: str, factor: float, dropped: Counter) -> list[Sample]:
    """Cap every value's group at int(mean + factor * population stdev) of the group sizes.

    Bigger groups keep their highest-quality utterances (ties: document order). Utterances without
    a value are never dropped by this.
    """
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        vals = s.values.get(key) or [UNKNOWN]
        groups[vals[0]].append(s)
    sizes = [len(g) for v, g in groups.items() if v != UNKNOWN]
    if not sizes:
        return samples
    cap = int(statistics.fmean(sizes) + factor * statistics.pstdev(sizes))
    drop: set[int] = set()
    for v, g in groups.items():
        if v == UNKNOWN or len(g) <= cap:
            continue
        ranked = sorted(range(len(g)), key=lambda k: (-g[k].quality, k))
        for k in ranked[cap:]:
            drop.add(id(g[k]))
    if drop:
        dropped[f"debias {key}"] += len(drop)
    return [s for s in samples if id(s) not in drop]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo   # the smallest name represents a component: deterministic


def split(samples: list[Sample], cfg: SelectConfig, partition_names: list[str]) -> dict[str, list[Sample]]:
    """Assign list names. Without --split a list per partition; with it, train/dev/test per partition.

    `other` (below every partition threshold) is never split: it is what the partitions reject
    (the reference split it too). With no --partition, all utterances form one partition whose
    lists are `all`, or `train`, `dev`, `test`.
    """
    by_part: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_part[s.partition].append(s)
    splittable = partition_names if partition_names else [ALL]

    def name(part: str, st: str) -> str:
        return st if part == ALL else f"{part}-{st}"

    if cfg.split:
        if cfg.split_field:
            _split_by_field(by_part, splittable, cfg)
        else:
            rng = random.Random(cfg.split_seed)
            for part in splittable:
                group = by_part.get(part, [])
                n = sample_size(len(group))
                order = list(range(len(group)))
                rng.shuffle(order)
                for rank, k in enumerate(order):
                    group[k].list_name = "test" if rank < n else "dev" if rank < 2 * n else "train"
        for part in splittable:
            for s in by_part.get(part, []):
                s.list_name = name(part, s.list_name)
    else:
        for s in samples:
            s.list_name = s.partition
    for s in by_part.get(OTHER, []):
        s.list_name = OTHER
    order = ([name(p, st) for p in splittable for st in SETS] if cfg.split else list(splittable)) + [OTHER]
    lists: dict[str, list[Sample]] = {n: [] for n in order}
    for s in samples:
        lists[s.list_name].append(s)
    return {n: v for n, v in lists.items() if v}


def _split_by_field(by_part: dict[str, list[Sample]], splittable: list[str], cfg: SelectConfig) -> None:
    key = cfg.split_field
    assert key
    uf = _UnionFind()
    # Utterances with several values tie those values together: a component is the atomic unit,
    # so no value can end up in two sets (the reference kept only the first value).
    for part in splittable:
        for s in by_part.get(part, []):
            vals = s.values.get(key) or [UNKNOWN]
            for v in vals[1:]:
                uf.union(vals[0], v)
            uf.find(vals[0])
    for part in splittable:
        for s in by_part.get(part, []):
            s.entity = uf.find((s.values.get(key) or [UNKNOWN])[0])
    assigned: dict[str, str] = {}      # component -> set
    for st, values in zip(SETS, (cfg.assign_train, cfg.assign_dev, cfg.assign_test)):
        for v in values:
            comp = uf.find(v)
            if comp in assigned and assigned[comp] != st:
                raise UserError(f"--assign-{st} {v!r} shares utterances with a value assigned to "
                                f"{assigned[comp]} (utterances with several {key} values join them)")
            assigned[comp] = st
    counts: Counter = Counter()
    per_part: dict[str, Counter] = {p: Counter() for p in splittable}
    for part in splittable:
        for s in by_part.get(part, []):
            counts[s.entity] += 1
            per_part[part][s.entity] += 1
    remaining = sorted((c for c in counts if c not in assigned), key=lambda c: (counts[c], c))
    for part in splittable:
        group = by_part.get(part, [])
        n = sample_size(len(group))
        sizes = Counter()
        for c, k in per_part[part].items():
            if c in assigned:
                sizes[assigned[c]] += k
        # Smallest entities first, alternating dev and test, until both reach n; only entities that
        # have utterances in this partition count, so later partitions keep theirs for training.
        todo = [c for c in remaining if per_part[part][c] > 0]
        turn = 0
        while todo and (sizes["dev"] < n or sizes["test"] < n):
            st = ("dev", "test")[turn % 2]
            turn += 1
            if sizes[st] >= n:
                continue
            c = todo.pop(0)
            remaining.remove(c)
            assigned[c] = st
            sizes[st] += per_part[part][c]
    for part in splittable:
        for s in by_part.get(part, []):
            s.list_name = assigned.get(s.entity, "train")
