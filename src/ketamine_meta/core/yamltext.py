"""YAML reading: libyaml's C parser where PyYAML was built with it (about 6x faster on the claims
registry), else the pure-Python one. Both are the *safe* loaders and build the same objects."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (CSafeLoader or SafeLoader)
