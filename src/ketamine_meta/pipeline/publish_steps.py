"""Workflow steps that finish a run: the HTML report, provenance, publishing and the summary line,
and the two steps of the coverage simulation."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from ketamine_meta.core.config import load_config
from ketamine_meta.data.contract import TABLES
from ketamine_meta.outputs import provenance, writers


def report_step(config_path: Path, claims_csv: Path, pooled_csv: Path, metrics_csv: Path, effects_csv: Path,
                forest_index_csv: Path, figures_dir: Path, out_html: Path, figures: list[Path] | None = None,
                spec_curve_index_csv: Path | None = None) -> None:  # fmt: skip
    """The HTML report (:func:`ketamine_meta.outputs.report.build`)."""
    from ketamine_meta.outputs import report

    report.build(config_path, claims_csv, pooled_csv, metrics_csv, effects_csv, forest_index_csv, figures_dir,
                 out_html, figures=figures, spec_curve_index_csv=spec_curve_index_csv)  # fmt: skip


def provenance_step(config_path: Path, out_json: Path, code_files: list[Path]) -> None:
    """provenance.json: every input with its hash, the config and the package versions."""
    cfg = load_config(config_path)
    data = sorted(
        str(Path(cfg.data_dir) / t.filename) for t in TABLES.values() if (Path(cfg.data_dir) / t.filename).exists()
    )
    inputs = {"data": data, "claims": [cfg.claims_file], "code": sorted(str(c) for c in code_files)}
    docs = cfg.documents_file
    if docs and Path(docs).is_file():
        inputs["documents"] = [docs]
    prov = provenance.build(inputs, cfg.as_dict())
    # exact versions in the job's log (not committed): provenance.json keeps major.minor only
    logging.info("exact package versions: %s", json.dumps(provenance.exact_versions(), sort_keys=True))
    writers.write_text(provenance.dumps(prov), out_json)


def publish_step(src_root: Path, dst_root: Path, items: list[str]) -> None:
    """Copy each relative path in ``items`` from the staging folder to the results folder."""
    writers.publish([(src_root / i, dst_root / i) for i in items])
    logging.info("published %d items to %s (open %s)", len(items), dst_root, dst_root / "report.html")


def simulation_cell_step(k: int, tau2: float, out_csv: Path, reps: int | None = None, seed: int | None = None) -> None:
    """Simulate one (k, τ²) cell of the coverage study and write its rows (``coverage.csv`` columns)."""
    from ketamine_meta.stats import simulation

    reps = simulation.REPS if reps is None else reps
    seed = simulation.SEED if seed is None else seed
    logging.info("simulating k=%d tau2=%g: %d replicates, seed %d", k, tau2, reps, seed)
    writers.write_csv(simulation.simulate_cell(k, tau2, reps=reps, seed=seed), out_csv)


def simulation_summary_step(cells: list[Path], out_csv: Path, out_stem: Path) -> None:
    """Join the simulation cells into ``coverage.csv`` and draw ``coverage.png/.svg/.caption.txt``."""
    from ketamine_meta.outputs import simulation_figure
    from ketamine_meta.stats import simulation

    table = simulation.sort_table(pd.concat([pd.read_csv(p) for p in cells], ignore_index=True))
    writers.write_csv(table, out_csv)
    writers.save_figure(simulation_figure.coverage_figure(table), out_stem, simulation_figure.caption(table))
    logging.info("%s", simulation_figure.conclusion(table))
