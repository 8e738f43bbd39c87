"""Load and check the pipeline configuration (``config/config.yaml`` + ``--config`` overrides).

The JSON Schema ``config.schema.yaml`` (package data, next to this module) rejects unknown keys and values that
are not allowed (an estimator metafor does not have, a CI method other than knha/z); the checks
here add the rules a schema cannot express (bins that overlap, a nominal hour outside its bin).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema

from ketamine_meta.core import yamltext
from ketamine_meta.core.errors import ConfigError
from ketamine_meta.core.settings import Config
from ketamine_meta.core.suggest import closest, did_you_mean

# package data, so an installed wheel validates exactly as a source checkout does
SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


def load_schema() -> dict:
    return yamltext.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    # parsed once per process: a job that chains several steps reads the config once per step
    return jsonschema.Draft202012Validator(load_schema())


def validate_config(cfg: dict, source: str = "config") -> dict:
    """Return ``cfg`` if valid, else raise ConfigError listing every problem."""
    validator = _validator()
    problems = []
    for err in sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(map(str, err.absolute_path)) or "(top level)"
        problems.append(f"{source}: at '{where}': {err.message}{_suggestion(err)}")
    if not problems:
        problems += _semantic(cfg, source)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return cfg


def _suggestion(err: jsonschema.ValidationError) -> str:
    """' (did you mean ...?)' for a mistyped key or value, else ''."""
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = list(err.schema.get("properties", {}))
        hints = [f"'{k}': {did_you_mean(k, known)}" for k in err.instance if k not in known and closest(k, known)]
        return f" ({'; '.join(hints)})" if hints else ""
    if err.validator == "enum" and isinstance(err.instance, str):
        hint = did_you_mean(err.instance, [str(v) for v in err.validator_value])
        return f" ({hint})" if hint else ""
    return ""


def _semantic(cfg: dict, source: str) -> list[str]:
    out = []
    bins = sorted(cfg["time_bins"].items(), key=lambda kv: kv[1]["low_h"])
    for name, b in bins:
        if not b["low_h"] < b["high_h"]:
            out.append(f"{source}: time_bins.{name}: low_h must be below high_h")
        if not b["low_h"] < b["nominal_h"] <= b["high_h"]:
            out.append(f"{source}: time_bins.{name}: nominal_h must lie in (low_h, high_h]")
    for (a, x), (b, y) in zip(bins, bins[1:]):
        if y["low_h"] < x["high_h"]:
            out.append(f"{source}: time_bins {a} and {b} overlap")
    if cfg["window_bin"] in cfg["time_bins"]:
        out.append(f"{source}: window_bin '{cfg['window_bin']}' must not be a time bin")
    out += _multiverse_agrees(cfg, source)
    for name, w in cfg["relapse"]["windows"].items():
        if not w["low_days"] <= w["nominal_days"] <= w["high_days"]:
            out.append(f"{source}: relapse.windows.{name}: nominal_days must lie in [low_days, high_days]")
    return out


def primary_choices(cfg: Config) -> dict[str, str]:
    """For each multiverse dimension, the option whose overrides equal ``handling`` (the primary)."""
    out = {}
    for dim, options in cfg.multiverse.choices.items():
        hits = [name for name, over in options.items() if cfg.handling.matches(over)]
        if len(hits) == 1:
            out[dim] = hits[0]
    return out


def _multiverse_agrees(cfg: dict, source: str) -> list[str]:
    """Each multiverse dimension must contain the primary analysis exactly once, or its primary
    row would not reproduce pooled.csv."""
    m = cfg["multiverse"]
    out = []
    if cfg["model"]["method"] not in m["methods"]:
        out.append(f"{source}: model.method is not among multiverse.methods")
    if cfg["model"]["test"] not in m["tests"]:
        out.append(f"{source}: model.test is not among multiverse.tests")
    if cfg["relapse"]["method"] not in m["relapse_methods"]:
        out.append(f"{source}: relapse.method is not among multiverse.relapse_methods")
    primary = primary_choices(Config.from_dict(cfg))
    for dim in m["choices"]:
        if dim not in primary:
            out.append(f"{source}: multiverse.choices.{dim}: exactly one option must equal handling (the primary)")
    return out


def load_config(path: str | Path) -> Config:
    """Read a resolved config (YAML or JSON) written by the workflow, validate it, and return the
    typed, frozen :class:`~ketamine_meta.core.settings.Config` every step reads."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    cfg = json.loads(text) if path.suffix == ".json" else yamltext.safe_load(text)
    return Config.from_dict(in_time_order(validate_config(cfg, source=str(path))))


def in_time_order(cfg: dict) -> dict:
    """``time_bins`` ordered by their hours (the resolved config is written with sorted keys, which
    would put d14 before d2_3), so every table, caption and figure that follows the bins runs in time."""
    cfg["time_bins"] = dict(sorted(cfg["time_bins"].items(), key=lambda kv: (kv[1]["low_h"], kv[0])))
    return cfg
