"""Load and check the pipeline configuration (``config/config.yaml`` + ``--config`` overrides).

The JSON Schema in ``workflow/schemas/config.schema.yaml`` rejects unknown keys and values that
are not allowed (an estimator metafor does not have, a CI method other than knha/z); the checks
here add the rules a schema cannot express (bins that overlap, a nominal hour outside its bin).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from .errors import ConfigError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def load_schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_config(cfg: dict, source: str = "config") -> dict:
    """Return ``cfg`` if valid, else raise ConfigError listing every problem."""
    validator = jsonschema.Draft202012Validator(load_schema())
    problems = []
    for err in sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(map(str, err.absolute_path)) or "(top level)"
        problems.append(f"{source}: at '{where}': {err.message}")
    if not problems:
        problems += _semantic(cfg, source)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return cfg


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


def _multiverse_agrees(cfg: dict, source: str) -> list[str]:
    """The multiverse's primary choices must be the primary analysis, or its primary row would
    not reproduce pooled.csv."""
    m, h = cfg["multiverse"], cfg["handling"]
    p = m["primary"]
    checks = [
        (cfg["model"]["method"] in m["methods"], "model.method is not among multiverse.methods"),
        (cfg["model"]["test"] in m["tests"], "model.test is not among multiverse.tests"),
        (h["crossover"] in m["crossover"], "handling.crossover is not among multiverse.crossover"),
        (
            sorted(m["controls"].get(p["controls"], [])) == sorted(h["controls"]),
            "multiverse.primary.controls differs from handling.controls",
        ),
        (
            sorted(m["populations"].get(p["population"], [])) == sorted(h["populations"]),
            "multiverse.primary.population differs from handling.populations",
        ),
        (m["bin_scales"].get(p["bins"]) == 1, "multiverse.primary.bins must name a scale of 1"),
        (m["arms"].get(p["arms"]) == {"multi_arm": h["multi_arm"], "ketamine_doses": h["ketamine_doses"]},
         "multiverse.primary.arms differs from handling.multi_arm / ketamine_doses"),
        (p["single_arm"] in m["single_arm"], "multiverse.primary.single_arm is not among multiverse.single_arm"),
    ]  # fmt: skip
    return [f"{source}: {msg}" for ok, msg in checks if not ok]


def load_config(path: str | Path) -> dict:
    """Read a resolved config (YAML or JSON) written by the workflow, and validate it."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    cfg = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return validate_config(cfg, source=str(path))
