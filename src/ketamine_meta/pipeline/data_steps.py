"""Workflow steps that read the extraction: validation and the effect-size table."""

from __future__ import annotations

import logging
from pathlib import Path

from ketamine_meta.claims import registry as claims
from ketamine_meta.core.config import load_config
from ketamine_meta.core.errors import ConfigError, InputError, KetamineMetaError
from ketamine_meta.data.load import load_dataset
from ketamine_meta.evidence import comparisons
from ketamine_meta.outputs import writers


def validate(
    config_path: Path, report_path: Path, out_effects: Path | None = None, out_unused: Path | None = None
) -> None:
    """Load every input once; any problem raises before a result is written. With ``out_effects``
    and ``out_unused``, also build the effect-size table from the data just loaded (one process
    and one read of the data for both: the workflow's first job)."""
    if (out_effects is None) != (out_unused is None):
        raise SystemExit("validate: --out_effects and --out_unused go together")
    cfg = load_config(config_path)
    seeds = cfg.seeds_dir
    if seeds and not Path(seeds).is_dir():
        # a clone without ../shared beside it: the quotes cannot be checked, everything else can
        logging.warning("seeds_dir %s not found: claim quotes not checked against the documents", seeds)
        seeds = ""
    # the data and the claims registry are both checked, so one run reports the problems of both
    failures: list[KetamineMetaError] = []
    try:
        ds = load_dataset(cfg.data_dir)
    except InputError as err:
        failures.append(err)
    try:
        registry = claims.load_claims(cfg.claims_file, seeds_dir=seeds or None)
    except ConfigError as err:
        failures.append(err)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise KetamineMetaError("\n".join(map(str, failures)))
    lines = [f"data_dir: {cfg.data_dir}", f"quotes checked against: {seeds or 'nothing (no seeds_dir)'}"]
    lines += [f"{name}.csv: {len(df)} rows" for name, df in ds.tables.items()]
    lines.append(f"claims: {len(registry)} entries in {cfg.claims_file}")
    writers.write_text("\n".join(lines), report_path)
    if out_effects is not None:
        es, unused = comparisons.build_effect_sizes(ds, cfg)
        writers.write_csv(es, out_effects)
        writers.write_csv(unused, out_unused)
