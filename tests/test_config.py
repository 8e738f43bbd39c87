"""Configuration checks: unknown keys and values that metafor does not know are errors."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from helpers import ROOT

from ketamine_meta.core.config import validate_config
from ketamine_meta.core.errors import ConfigError

BASE = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_shipped_config_is_valid():
    assert validate_config(copy.deepcopy(BASE)) is not None


@pytest.mark.parametrize(
    "path,value,words",
    [
        (("model", "method"), "FE", "'FE' is not one of"),
        (("model", "test"), "hksj", "'hksj' is not one of"),
        (("model", "level"), 1.5, "model.level"),
        (("handling", "multi_arm"), "average", "handling.multi_arm"),
        (("model", "typo_key"), 1, "'typo_key' was unexpected"),
        (("time_bins", "h24", "nominal_h"), 50, "nominal_h must lie in"),
    ],
)
def test_bad_values_are_rejected_with_their_path(path, value, words):
    cfg = copy.deepcopy(BASE)
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=words):
        validate_config(cfg)


def test_overlapping_bins_are_rejected():
    cfg = copy.deepcopy(BASE)
    cfg["time_bins"]["h24"]["low_h"] = 4
    with pytest.raises(ConfigError, match="overlap"):
        validate_config(cfg)


def test_the_typed_config_is_frozen_and_round_trips():
    import dataclasses

    from ketamine_meta.core.config import in_time_order
    from ketamine_meta.core.settings import Config

    raw = in_time_order(validate_config(copy.deepcopy(BASE)))
    cfg = Config.from_dict(raw)
    assert cfg.as_dict() == json.loads(json.dumps(raw))  # nothing lost or reordered
    assert list(cfg.time_bins) == sorted(cfg.time_bins, key=lambda b: cfg.time_bins[b].low_h)
    assert cfg.handling.controls == tuple(BASE["handling"]["controls"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.model.level = 0.9  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.route_groups["iv"] = "oral"  # type: ignore[index]
    other = cfg.with_handling({"crossover_r": 0.2, "controls": ["saline"]})
    assert (other.handling.crossover_r, other.handling.controls) == (0.2, ("saline",))
    assert (cfg.handling.crossover_r, cfg.handling.controls) == (BASE["handling"]["crossover_r"],
                                                               tuple(BASE["handling"]["controls"]))  # fmt: skip
    assert cfg.handling.matches({"controls": list(BASE["handling"]["controls"])})
    assert cfg.bin_label("h24") == BASE["time_bins"]["h24"]["label"]
