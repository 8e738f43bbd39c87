"""Reading the intermediate tables the steps hand each other (the steps' only shared helper)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read(path: Path) -> pd.DataFrame:
    """An intermediate CSV as the step that wrote it left it (NA cells as NaN)."""
    return pd.read_csv(path, keep_default_na=True)
