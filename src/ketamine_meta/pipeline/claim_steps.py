"""Workflow steps that turn pooled numbers into metrics, the multiverse and verdicts."""

from __future__ import annotations

from pathlib import Path

from ketamine_meta.claims import certainty, metrics, multiverse, verdicts
from ketamine_meta.claims import registry as claims
from ketamine_meta.core.config import load_config
from ketamine_meta.core.errors import CheckedElsewhereError, ConfigError, InputError
from ketamine_meta.data import documents
from ketamine_meta.data.load import load_dataset
from ketamine_meta.outputs import findings, writers
from ketamine_meta.outputs.claims_markdown import claims_markdown
from ketamine_meta.pipeline.tables import read


def metrics_step(config_path: Path, pooled_csv: Path, moderators_csv: Path, dose_csv: Path, timecourse_csv: Path,
                 timecourse_summary_csv: Path, relapse_pooled_csv: Path, medians_csv: Path, shares_csv: Path,
                 effects_csv: Path, adverse_csv: Path, out_metrics: Path) -> None:  # fmt: skip
    """Every number a claim can be checked against, under its metric key."""
    cfg = load_config(config_path)
    ref = load_dataset(cfg.data_dir).tables.get("reference_values")
    tables = metrics.Inputs(
        pooled=read(pooled_csv),
        moderators=read(moderators_csv),
        dose=read(dose_csv),
        timecourse=read(timecourse_csv),
        timecourse_summary=read(timecourse_summary_csv),
        relapse_pooled=read(relapse_pooled_csv),
        relapse_medians=read(medians_csv),
        relapse_shares=read(shares_csv),
        effect_sizes=read(effects_csv),
        reference=ref,
        adverse=read(adverse_csv),
    )
    writers.write_csv(metrics.build_metrics(cfg, tables), out_metrics)


def multiverse_step(config_path: Path, out_csv: Path, out_summary: Path) -> None:
    """Every pooled-data claim under every combination of the configured analysis choices."""
    cfg = load_config(config_path)
    try:  # the workflow starts this job beside validate, which reports bad input in full
        ds, registry = load_dataset(cfg.data_dir), claims.load_claims(cfg.claims_file)
    except (InputError, ConfigError) as err:
        raise CheckedElsewhereError(err) from None
    mv = multiverse.run_multiverse(ds, cfg, registry)
    writers.write_csv(mv, out_csv)
    writers.write_csv(multiverse.summarise(mv), out_summary)


def claims_step(config_path: Path, metrics_csv: Path, multiverse_summary_csv: Path, regtest_csv: Path,
                out_csv: Path, out_md: Path) -> None:  # fmt: skip
    """Every claim's verdict, interval, certainty and robustness; the summary of findings in Markdown."""
    cfg = load_config(config_path)
    registry = claims.load_claims(cfg.claims_file)
    ds = load_dataset(cfg.data_dir)
    ev = certainty.Evidence.from_tables(ds["studies"], ds.tables.get("risk_of_bias"), read(regtest_csv))
    table = verdicts.evaluate_all(registry, read(metrics_csv), cfg, ev)
    table = verdicts.add_robustness(table, read(multiverse_summary_csv))
    writers.write_csv(table, out_csv)
    docs = documents.load_documents(cfg.documents_file)
    sof_rows = findings.summary_of_findings(table, read(metrics_csv), docs, cfg.model.level)
    sof = findings.findings_markdown(sof_rows)
    writers.write_text(claims_markdown(table, cfg, docs, preface=sof), out_md)
