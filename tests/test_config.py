"""Configuration checks: unknown keys and values that metafor does not know are errors."""

from __future__ import annotations

import copy

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
