"""The `mine` run configuration: a flat, typed YAML file validated on load.

Every key is a field of `MineConfig` (or `LangConfig` under `lang_configs.<lang>`); an unknown
key or a value of the wrong type is a `UserError` naming the file (or the command-line
override) and the key. String values may use `${data_dir}`.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
import reprlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..common.errors import UserError


class MarginType(str, enum.Enum):
    RATIO = "ratio"
    DISTANCE = "distance"
    ABSOLUTE = "absolute"


class MarginNorm(str, enum.Enum):
    MEAN = "mean"
    LAST = "last"


class MineType(str, enum.Enum):
    FORWARD = "forward"
    BACKWARD = "backward"
    UNION = "union"
    INTERSECTION = "intersection"


class ThresholdOn(str, enum.Enum):
    BLENDED = "blended"
    MARGIN = "margin"


class AutoThreshold(str, enum.Enum):
    MIXTURE = "mixture"
    RUNNER_UP = "runner_up"


class AuxScorer(str, enum.Enum):
    COSINE = "cosine"
    AUTOPCP = "autopcp"


class Dedup(str, enum.Enum):
    NONE = "none"
    META = "meta"
    ONE_TO_ONE = "one_to_one"


class Executor(str, enum.Enum):
    LOCAL = "local"
    RAY = "ray"


def _h(text: str, **kw) -> Any:
    """Field with a help text (used by --write-default-config)."""
    return field(metadata={"help": text}, **kw)


@dataclass(frozen=True)
class LangConfig:
    existing_embedding_glob: str = _h(
        "embedding shards (.npy, float16/float32, rows x dim), ordered by their .NNN. number"
    )
    existing_aux_embedding_glob: Optional[str] = _h(
        "auxiliary (e.g. prosody) embedding shards, same row counts shard by shard; null: none",
        default=None,
    )
    meta_glob: Optional[str] = _h(
        "text shards with one line per embedding row (e.g. 'path start end'); null: none", default=None
    )
    index_type: Optional[str] = _h(
        "faiss factory string for this language's index; null: the global index_type", default=None
    )


@dataclass(frozen=True)
class MineConfig:
    data_dir: Optional[str] = _h("base directory, usable as ${data_dir} in any string value", default=None)
    src_lang: Optional[str] = _h("source language key (a key of lang_configs)", default=None)
    tgt_lang: Optional[str] = _h("target language key", default=None)
    pairs: Optional[list] = _h(
        "instead of src_lang/tgt_lang: a list of [src, tgt] pairs (outputs go to output_dir/<src>-<tgt>/)",
        default=None,
    )
    lang_configs: dict = _h("per-language inputs: existing_embedding_glob, existing_aux_embedding_glob, "
                            "meta_glob, index_type", default_factory=dict)
    output_dir: Optional[str] = _h("where pairs.tsv.gz, summary.json and the resolved config go", default=None)
    cache_dir: Optional[str] = _h("index and kNN cache; null: <output_dir>/cache", default=None)
    knn: int = _h("neighbours per row in each direction (k of the margin)", default=16)
    margin_type: MarginType = _h("ratio: cos/mean; distance: cos-mean; absolute: cos", default=MarginType.RATIO)
    margin_norm: MarginNorm = _h("neighbourhood term: mean of the k cosines, or the k-th (last) one",
                                 default=MarginNorm.MEAN)
    mine_type: MineType = _h("forward | backward | union (each pair once) | intersection (mutual choice)",
                             default=MineType.UNION)
    threshold: Optional[float] = _h("minimum score (see threshold_on) for a pair to be written; auto (or null): "
                                    "chosen from this run's scores without labels (see auto_threshold)",
                                    default=None)
    auto_threshold: AutoThreshold = _h("how threshold: auto is chosen: mixture (two-component fit of the "
                                       "candidates' scores, cut where P(translation) = 0.5) or runner_up (runner-up "
                                       "candidates as a null sample, cut at the best estimated F1)",
                                       default=AutoThreshold.MIXTURE)
    skip_bad_rows: bool = _h("skip embedding rows with NaN/Inf values (reported in summary.json) instead of "
                             "failing; all-zero rows are always skipped", default=False)
    plot: bool = _h("write score_histogram.png (needs matplotlib: pip install 'align[plot]')", default=False)
    score_max: Optional[float] = _h("maximum score (drop 'too good to be true' pairs); null: no upper bound",
                                    default=None)
    alpha: float = _h("blended = alpha*margin + (1-alpha)*aux (only with aux embeddings)", default=0.5)
    k_extract: int = _h("pairs extracted per query row and direction, best first (as the reference)",
                        default=1)
    blend_candidates: Optional[int] = _h("with aux embeddings: how many of a row's best-margin neighbours the "
                                         "blend re-ranks; null: all knn", default=None)
    aux_scorer: AuxScorer = _h("aux score: cosine of the aux embeddings, or an AutoPCP comparator",
                               default=AuxScorer.COSINE)
    autopcp_path: Optional[str] = _h("AutoPCP comparator: a directory or the <name>.config file "
                                     "(needs torch)", default=None)
    autopcp_symmetrize: bool = _h("average comparator(src,tgt) and comparator(tgt,src)", default=True)
    threshold_on: ThresholdOn = _h("which value is compared with threshold/score_max: the blended score "
                                   "or the margin", default=ThresholdOn.MARGIN)
    dedup: Dedup = _h("none | meta (a src/tgt meta pair only once) | one_to_one (each row at most once, "
                      "best score first)", default=Dedup.ONE_TO_ONE)
    index_type: Optional[str] = _h("faiss factory string, e.g. Flat or IVF1024,PQ32x4fs; null: by size "
                                   "(Flat up to exact_max_rows rows)", default=None)
    exact_max_rows: int = _h("auto index: exact (Flat) search up to this many indexed rows", default=50000)
    nprobe: int = _h("IVF lists visited per query", default=16)
    rescore_factor: int = _h("approximate indexes: fetch knn*rescore_factor candidates and re-rank them "
                             "by exact cosine (0: keep the index's approximate scores)", default=4)
    train_sample: Optional[int] = _h("rows sampled (seeded) to train an IVF/PQ index; null: 40 per list",
                                     default=None)
    seed: int = _h("seed of the training sample", default=0)
    batch_size: int = _h("query rows per search block (bounds memory)", default=8192)
    fp16: Optional[bool] = _h("keep vectors for exact re-scoring in float16 (half the memory); "
                              "null: when the shards are float16", default=None)
    executor: Executor = _h("local, or ray (kNN per query shard as Ray tasks)", default=Executor.LOCAL)
    gpu: bool = _h("search with faiss on GPU when one is available", default=False)
    score_thresholds: list = _h("thresholds at which summary.json counts pairs",
                                default_factory=lambda: [1.0, 1.02, 1.04, 1.06, 1.08, 1.1, 1.15, 1.2])

    def lang(self, name: str) -> LangConfig:
        return self.lang_configs[name]

    def lang_pairs(self) -> list[tuple[str, str]]:
        if self.pairs:
            return [tuple(p) for p in self.pairs]
        return [(self.src_lang, self.tgt_lang)]

    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "lang_configs":
                v = {k: dataclasses.asdict(lc) for k, lc in sorted(v.items())}
            elif isinstance(v, enum.Enum):
                v = v.value
            elif f.name == "threshold" and v is None:
                v = "auto"
            out[f.name] = v
        return out


# ---------------------------------------------------------------------------------------------
# loading and validation

_VAR = re.compile(r"\$\{([^}]*)\}")


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args) + " or null"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + "|".join(m.value for m in tp)
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false", list: "a list",
            dict: "a mapping"}.get(tp, str(tp))


def _short(value: Any) -> str:
    """A bounded repr for error messages (a value may be huge, e.g. expanded YAML aliases)."""
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxdict, r.maxlevel = 60, 60, 6, 6, 3
    return r.repr(value)


def _coerce(value: Any, tp, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _coerce(value, inner, where)

    def bad() -> UserError:  # formatted only when raised: repr of a valid value can be costly
        return UserError(f"{where}: expected {_type_name(tp)}, got {_short(value)}")

    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except (ValueError, TypeError):
            raise bad() from None
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise bad()
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise bad()
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                raise UserError(f"{where}: {len(str(abs(value)))}-digit number is out of range") from None
        raise bad()
    if tp is str:
        if isinstance(value, str):
            return value
        raise bad()
    if tp is list:
        if isinstance(value, list):
            return value
        raise bad()
    if tp is dict:
        if isinstance(value, dict):
            return value
        raise bad()
    raise AssertionError(tp)


def _unknown_key(where: str, key: str, known) -> UserError:
    """One line: the unknown key and the closest known one."""
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(known)
    return UserError(f"{where}: unknown key '{key}'; {hint} (mine --write-default-config lists every key)")


def _fields(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _interpolate(value: Any, data_dir: Optional[str], where: str) -> Any:
    if type(value) is not str:  # noqa: E721 (str enums must stay enums)
        return value

    def sub(m: re.Match) -> str:
        if m.group(1) != "data_dir":
            raise UserError(f"{where}: unknown variable ${{{m.group(1)}}} (only ${{data_dir}} is defined)")
        if data_dir is None:
            raise UserError(f"{where}: uses ${{data_dir}} but data_dir is not set")
        return data_dir

    return _VAR.sub(sub, value)


def _build_lang(name: str, raw: Any, data_dir: Optional[str], source: str) -> LangConfig:
    where = f"{source}: lang_configs.{name}"
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a mapping with existing_embedding_glob etc., got {_short(raw)}")
    types_ = _fields(LangConfig)
    kwargs = {}
    for key, value in raw.items():
        if key not in types_:
            raise _unknown_key(f"{where}.{key}", key, types_)
        value = _coerce(value, types_[key], f"{where}.{key}")
        kwargs[key] = _interpolate(value, data_dir, f"{where}.{key}")
    if not kwargs.get("existing_embedding_glob"):
        raise UserError(f"{where}.existing_embedding_glob: missing (the .npy embedding shards of '{name}')")
    return LangConfig(**kwargs)


def build_config(raw: dict, source: str) -> MineConfig:
    """Validate a mapping (from YAML plus overrides) into a MineConfig; errors name `source`."""
    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a mapping of keys to values at the top level")
    types_ = _fields(MineConfig)
    for key in raw:
        if key not in types_:
            raise _unknown_key(source, key, types_)
    data_dir = raw.get("data_dir")
    if data_dir is not None and not isinstance(data_dir, str):
        raise UserError(f"{source}: data_dir: expected a string, got {_short(data_dir)}")
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{source}: {key}"
        if key == "lang_configs":
            value = _coerce(value, dict, where) if value is not None else {}
            kwargs[key] = {str(k): _build_lang(str(k), v, data_dir, source) for k, v in value.items()}
            continue
        if key == "threshold" and value == "auto":
            value = None
        value = _coerce(value, types_[key], where)
        kwargs[key] = _interpolate(value, data_dir, where)
    cfg = MineConfig(**kwargs)
    _check(cfg, source)
    return cfg


# The allowed range of every numeric key (inclusive). Floats must also be finite. knn bounds the
# (rows x knn) neighbour arrays: 1024 neighbours of 1M rows already take 12 GB per direction.
RANGES: dict[str, tuple[float, float]] = {
    "knn": (1, 1024),
    "threshold": (-1e6, 1e6),
    "score_max": (-1e6, 1e6),
    "alpha": (0.0, 1.0),
    "k_extract": (1, 1024),
    "blend_candidates": (1, 1024),
    "exact_max_rows": (1, 2**40),
    "nprobe": (1, 65536),
    "rescore_factor": (0, 1000),
    "train_sample": (1, 2**31 - 1),
    "seed": (0, 2**32 - 1),
    "batch_size": (1, 1 << 20),
}


def _check(cfg: MineConfig, source: str) -> None:
    def err(key: str, msg: str) -> UserError:
        return UserError(f"{source}: {key}: {msg}")

    if cfg.pairs is not None:
        if cfg.src_lang or cfg.tgt_lang:
            raise err("pairs", "give either pairs or src_lang/tgt_lang, not both")
        for p in cfg.pairs:
            if not (isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)):
                raise err("pairs", f"each entry must be [src, tgt], got {_short(p)}")
    else:
        if not cfg.src_lang:
            raise err("src_lang", "missing (or give pairs: [[src, tgt], ...])")
        if not cfg.tgt_lang:
            raise err("tgt_lang", "missing (or give pairs: [[src, tgt], ...])")
    for s, t in cfg.lang_pairs():
        if s == t:
            raise err("tgt_lang", f"source and target are the same language '{s}'")
        for lang in (s, t):
            if lang not in cfg.lang_configs:
                raise err("lang_configs", f"no entry for language '{lang}'")
    if not cfg.output_dir:
        raise err("output_dir", "missing")
    for key, (lo, hi) in RANGES.items():
        v = getattr(cfg, key)
        if v is None:
            continue
        if isinstance(v, float) and not math.isfinite(v):
            raise err(key, f"must be a finite number, got {v}")
        if not lo <= v <= hi:
            raise err(key, f"must be between {lo:g} and {hi:g}, got {_short(v)}")
    if not 1 <= cfg.k_extract <= cfg.knn:
        raise err("k_extract", f"must be between 1 and knn ({cfg.knn}), got {cfg.k_extract}")
    if cfg.blend_candidates is not None and not 1 <= cfg.blend_candidates <= cfg.knn:
        raise err("blend_candidates", f"must be between 1 and knn ({cfg.knn}), got {cfg.blend_candidates}")
    if cfg.score_max is not None and cfg.threshold is not None and cfg.score_max < cfg.threshold:
        raise err("score_max", f"{cfg.score_max} is below threshold {cfg.threshold}")
    if cfg.aux_scorer is AuxScorer.AUTOPCP and not cfg.autopcp_path:
        raise err("autopcp_path", "aux_scorer: autopcp needs the comparator path")
    for v in cfg.score_thresholds:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise err("score_thresholds", f"expected numbers, got {_short(v)}")
        if not math.isfinite(v) or abs(v) > 1e6:
            raise err("score_thresholds", f"expected finite numbers, got {v}")


# A config file is a few dozen values; aliases that expand past this are a mistake or an attack
# (a 600-byte "billion laughs" file expands to billions of values).
MAX_YAML_VALUES = 100_000


def _expanded_size(node, memo: dict, active: set) -> int:
    """Number of values `node` stands for once every alias is expanded (memoised per node, so
    linear in the file even when the expansion is exponential)."""
    import yaml

    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise ValueError("recursive alias")
    active.add(key)
    n = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            n += _expanded_size(child, memo, active)
            if n > MAX_YAML_VALUES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            n += _expanded_size(k, memo, active) + _expanded_size(v, memo, active)
            if n > MAX_YAML_VALUES:
                break
    active.discard(key)
    memo[key] = n
    return n


def safe_load_yaml(text: str, where: str) -> Any:
    """yaml.safe_load, but aliases may not expand past MAX_YAML_VALUES values, nor refer to
    themselves. Raises yaml.YAMLError for invalid YAML, UserError for those two cases."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            n = _expanded_size(node, {}, set())
        except ValueError:
            raise UserError(f"{where}: a YAML alias refers to itself; write the values out") from None
        except RecursionError:
            raise UserError(f"{where}: YAML nested too deeply") from None
        if n > MAX_YAML_VALUES:
            raise UserError(f"{where}: YAML aliases expand to more than {MAX_YAML_VALUES:,} values "
                            f"(an alias bomb?); write the values out instead of repeating aliases")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_override(text: str) -> tuple[list[str], Any]:
    """`key=value` or `lang_configs.en.index_type=value`; the value is read as a YAML scalar."""
    import yaml

    if "=" not in text:
        raise UserError(f"override '{text}': expected key=value")
    key, value = text.split("=", 1)
    if not key or not all(key.split(".")):
        raise UserError(f"override '{text}': empty key")
    try:
        parsed = safe_load_yaml(value, f"override '{text}'") if value != "" else None
    except yaml.YAMLError:
        parsed = value
    return key.split("."), parsed


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    raw = dict(raw)
    for text in overrides:
        path, value = parse_override(text)
        target = raw
        for i, part in enumerate(path[:-1]):
            nxt = target.get(part)
            if nxt is None:
                nxt = {}
            elif not isinstance(nxt, dict):
                raise UserError(f"override '{text}': '{'.'.join(path[: i + 1])}' is not a mapping")
            nxt = dict(nxt)
            target[part] = nxt
            target = nxt
        target[path[-1]] = value
    return raw


def load_config(path: Optional[str | Path], overrides: list[str] = ()) -> MineConfig:
    """Read the YAML file (if any), apply `key=value` overrides, validate."""
    import yaml

    from ..common.fileio import read_text

    raw: dict = {}
    source = "command line"
    if path is not None:
        source = str(path)
        text = read_text(path, "config file")
        try:
            loaded = safe_load_yaml(text, str(path))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            pos = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            raise UserError(f"{path}{pos}: invalid YAML: {getattr(e, 'problem', e)}") from None
        raw = loaded if loaded is not None else {}
        if not isinstance(raw, dict):
            raise UserError(f"{path}: expected a mapping of keys to values at the top level")
    if overrides:
        # Validate the overrides on their own first so that an error names the override.
        over = apply_overrides({}, list(overrides))
        _check_override_keys(over)
        source = f"{source} (with overrides {' '.join(overrides)})"
        raw = apply_overrides(raw, list(overrides))
    return build_config(raw, source)


def _check_override_keys(over: dict) -> None:
    types_ = _fields(MineConfig)
    for key, value in over.items():
        if key not in types_:
            raise _unknown_key(f"override {key}=...", key, types_)
        if key == "lang_configs":
            lang_types = _fields(LangConfig)
            for lang, sub in value.items():
                if isinstance(sub, dict):
                    for k, v in sub.items():
                        if k not in lang_types:
                            raise _unknown_key(f"override lang_configs.{lang}.{k}=...", k, lang_types)
                        _coerce(v, lang_types[k], f"override lang_configs.{lang}.{k}")
            continue
        if key == "threshold" and value == "auto":
            continue
        _coerce(value, types_[key], f"override {key}")


def default_config_text() -> str:
    """A commented YAML file with every key at its default (for --write-default-config)."""
    import yaml

    lines = ["# mine: margin-based mining of parallel speech from embedding shards.",
             "# Every key is optional except the languages, their embedding globs and output_dir.",
             "# Any value can also be set on the command line: mine --config run.yaml knn=8 alpha=0.7", ""]
    example = {
        "data_dir": "/path/to/data",
        "src_lang": "en",
        "tgt_lang": "es",
        "output_dir": "${data_dir}/mined/en-es",
    }
    for f in dataclasses.fields(MineConfig):
        lines.append(f"# {f.metadata['help']}")
        if f.name == "lang_configs":
            lines.append("lang_configs:")
            for lang in ("en", "es"):
                lines.append(f"  {lang}:")
                for lf in dataclasses.fields(LangConfig):
                    val = {
                        "existing_embedding_glob": f"${{data_dir}}/embeddings/{lang}_emb.[0-9][0-9][0-9].npy",
                        "existing_aux_embedding_glob": f"${{data_dir}}/aux_embeddings/{lang}_emb.[0-9][0-9][0-9].npy",
                        "meta_glob": f"${{data_dir}}/segments/{lang}_seg.[0-9][0-9][0-9].tsv",
                        "index_type": None,
                    }[lf.name]
                    lines.append(f"    # {lf.metadata['help']}")
                    lines.append(f"    {lf.name}: {_yaml_scalar(val)}")
            lines.append("")
            continue
        if f.name in example:
            value = example[f.name]
        elif f.default is not dataclasses.MISSING:
            value = f.default
        else:
            value = f.default_factory()
        if isinstance(value, enum.Enum):
            value = value.value
        if f.name == "threshold" and value is None:
            value = "auto"
        if isinstance(value, list):
            lines.append(f"{f.name}: {yaml.safe_dump(value, default_flow_style=True).strip()}")
        else:
            lines.append(f"{f.name}: {_yaml_scalar(value)}")
        lines.append("")
    return "\n".join(lines)


def _yaml_scalar(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text[: -len("\n...")] if text.endswith("\n...") else text.removesuffix("...").strip()
