"""The multiverse: every claim that rests on pooled data, regenerated under every combination of
defensible analysis choices (enumerated, never sampled).

Choices (config ``multiverse``): τ² estimator, CI method, control type, crossover trials in or
out, time-bin edges (narrow / default / wide), population, multi-arm handling (pooled doses or
0.5 mg/kg only) and, for ketamine-arm response rates, single-arm series in or out. A choice that
cannot change a claim's number (e.g. control type for a relapse proportion) is not varied for it,
so every row is a distinct analysis.

Speed: effect sizes are built once per multi-arm rule at every printed time point and re-binned
per bin variant (:func:`ketamine_meta.comparisons.bin_effect_sizes`); all intercept-only pools of
one estimator and CI method are fitted together by the batched engine
(:func:`ketamine_meta.batch.pool_arrays`); only moderator contrasts use the scalar engine.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import analyses, batch, claims, comparisons, metrics, relapse
from .effects import inv_logit
from .io import Dataset
from .pooling import rma

DIMENSIONS = ("method", "test", "controls", "crossover", "bins", "population", "arms", "single_arm")
MULTIVERSE_COLUMNS = [
    "claim_id", "metric", "spec_id", *DIMENSIONS, "is_primary", "k", "estimate", "ci_low", "ci_high", "verdict",
    "supports",
]  # fmt: skip
SUMMARY_COLUMNS = ["claim_id", "n_specs", "n_support", "robustness", "spec_low", "spec_high"]

#: Metric families whose number comes from pooling, and the choices that can move each.
FAMILY_DIMENSIONS = {
    "pooled": ("method", "test", "controls", "crossover", "bins", "population", "arms"),
    "nnt": ("method", "test", "controls", "crossover", "bins", "population", "arms"),
    "ratio": ("method", "test", "controls", "crossover", "bins", "population", "arms"),
    "rate": ("method", "test", "controls", "crossover", "bins", "population", "arms", "single_arm"),
    "route_diff": ("method", "test", "controls", "crossover", "bins", "population", "arms"),
    "route_test": ("method", "test", "controls", "crossover", "bins", "population", "arms"),
    "moderator_diff": ("method", "test", "controls", "crossover", "bins", "population", "arms"),
    "moderator_test": ("method", "test", "controls", "crossover", "bins", "population", "arms"),
    "relapse": ("method", "test"),
}


@dataclass(frozen=True)
class Spec:
    method: str
    test: str
    controls: str
    crossover: str
    bins: str
    population: str
    arms: str
    single_arm: str

    @property
    def spec_id(self) -> str:
        return "|".join(getattr(self, d) for d in DIMENSIONS)


def primary_spec(cfg: dict) -> Spec:
    m = cfg["multiverse"]
    p = m["primary"]
    model, crossover = cfg["model"], cfg["handling"]["crossover"]
    return Spec(model["method"], model["test"], p["controls"], crossover, p["bins"], p["population"], p["arms"],
                p["single_arm"])  # fmt: skip


def specifications(cfg: dict, family: str) -> list[Spec]:
    """All specifications for a metric family: the product over the choices that can move it,
    the others held at the primary choice. Order is fixed (config order), so output is stable."""
    m = cfg["multiverse"]
    options = {
        "method": m["methods"],
        "test": m["tests"],
        "controls": list(m["controls"]),
        "crossover": m["crossover"],
        "bins": list(m["bin_scales"]),
        "population": list(m["populations"]),
        "arms": list(m["arms"]),
        "single_arm": m["single_arm"],
    }
    base = primary_spec(cfg)
    dims = FAMILY_DIMENSIONS[family]
    for d in DIMENSIONS:
        if d not in dims:
            options[d] = [getattr(base, d)]
    return [Spec(*combo) for combo in itertools.product(*(options[d] for d in DIMENSIONS))]


def scaled_bins(bins: dict, scale: float) -> dict:
    """Bin edges moved on the log scale around each nominal hour by ``scale`` (1 = unchanged):
    ``edge' = nominal · (edge / nominal)^scale``; a lower edge of 0 stays 0."""
    out = {}
    for name, b in bins.items():
        lo = 0.0 if b["low_h"] == 0 else b["nominal_h"] * (b["low_h"] / b["nominal_h"]) ** scale
        hi = b["nominal_h"] * (b["high_h"] / b["nominal_h"]) ** scale
        out[name] = {**b, "low_h": lo, "high_h": hi}
    return out


class _EffectCache:
    """Effect sizes per (multi-arm rule, time bin, bin scale): built at all time points once per
    multi-arm rule, then binned for one bin at a time so that widened bins never compete."""

    def __init__(self, ds: Dataset, cfg: dict):
        self.ds, self.cfg = ds, cfg
        self._long: dict = {}
        self._binned: dict = {}

    def get(self, arms: str, time_bin: str, scale_name: str) -> pd.DataFrame:
        key = (arms, time_bin, scale_name)
        if key not in self._binned:
            cfg = copy.deepcopy(self.cfg)
            cfg["handling"].update(self.cfg["multiverse"]["arms"][arms])
            if arms not in self._long:
                self._long[arms] = comparisons.effect_sizes_by_time(self.ds, cfg)
            if time_bin in cfg["time_bins"]:
                scale = self.cfg["multiverse"]["bin_scales"][scale_name]
                cfg["time_bins"] = {time_bin: scaled_bins(cfg["time_bins"], scale)[time_bin]}
            self._binned[key] = comparisons.bin_effect_sizes(*self._long[arms], cfg)
        return self._binned[key]


def _parse(metric: str) -> dict:
    p = metric.split(".")
    fam = claims.metric_family(metric)
    if fam == "pooled":
        return {"outcome": p[1], "effect": p[2], "route": p[3], "bin": p[4], "group": "contrast"}
    if fam == "nnt":
        return {"outcome": p[1], "effect": "rd", "route": p[2], "bin": p[3], "group": "contrast"}
    if fam == "rate":
        return {"outcome": p[1], "effect": "logit_p", "group": p[2], "route": p[3], "bin": p[4]}
    if fam == "ratio":
        return {"outcome": "depression", "effect": "smd", "route": p[2], "bin": p[3], "group": "contrast"}
    if fam in ("route_diff", "route_test"):
        pair = p[4] if len(p) > 4 else None
        return {"moderator": "route", "outcome": p[1], "effect": p[2], "bin": p[3], "pair": pair}
    if fam in ("moderator_diff", "moderator_test"):
        return {"moderator": p[1], "outcome": p[2], "effect": p[3], "bin": p[4], "pair": p[5] if len(p) > 5 else None}
    if fam == "relapse":
        return {"condition": p[2], "window": p[3]}
    raise ValueError(f"no multiverse for metric {metric}")


def run_multiverse(ds: Dataset, cfg: dict, registry: list[claims.Claim]) -> pd.DataFrame:
    """One row per claim x specification (see :data:`MULTIVERSE_COLUMNS`), in a stable order."""
    cache = _EffectCache(ds, cfg)
    primary = primary_spec(cfg)
    anchor = metrics.anchor(ds.tables.get("reference_values"), cfg["reference"]["antidepressant_smd_quantity"])
    rows = []
    for c in registry:
        fam = claims.metric_family(c.metric)
        if fam not in FAMILY_DIMENSIONS or c.rule == "arithmetic":
            continue
        if fam == "ratio" and anchor is None:
            continue
        q = _parse(c.metric)
        specs = specifications(cfg, fam)
        if fam == "relapse":
            values = _relapse_values(ds, cfg, q, specs)
        elif "moderator" in q:
            values = _moderator_values(cache, cfg, q, specs)
        else:
            values = _pooled_values(cache, cfg, q, specs, fam, anchor)
        for s, (k, est, lo, hi) in zip(specs, values):
            if k == 0 or not np.isfinite(est):
                verdict = "not_testable"
            else:
                verdict, _ = claims.judge(c, est, lo if np.isfinite(lo) else est, hi if np.isfinite(hi) else est, cfg)
            rows.append({"claim_id": c.claim_id, "metric": c.metric, "spec_id": s.spec_id,
                         **{d: getattr(s, d) for d in DIMENSIONS}, "is_primary": s == primary, "k": k,
                         "estimate": est, "ci_low": lo, "ci_high": hi, "verdict": verdict,
                         "supports": verdict == "reproduced"})  # fmt: skip
    return pd.DataFrame(rows, columns=MULTIVERSE_COLUMNS)


def _masks(es: pd.DataFrame, cfg: dict) -> dict:
    """Boolean masks of every choice's analysis set, computed once per effect table."""
    m = cfg["multiverse"]
    single = (es["group"] == "single_arm").to_numpy()
    return {
        "controls": {n: es["control"].isin(v).to_numpy() | single for n, v in m["controls"].items()},
        "population": {n: es["population"].isin(v).to_numpy() for n, v in m["populations"].items()},
        "crossover": {"include": np.ones(len(es), bool), "exclude": ~es["crossover"].astype(bool).to_numpy()},
    }


def _cells(cache, cfg, q, specs, include_single=False, levels_spec=None) -> list[dict]:
    """Each spec's rows of the claim's cell (outcome, effect, group, bin, route) as NumPy arrays
    (``yi``, ``vi`` and, with ``levels_spec``, the moderator ``level``): masks over one prepared
    table per (multi-arm rule, bin scale), never a DataFrame per spec."""
    prepared = {}
    out = []
    for s in specs:
        key = (s.arms, s.bins)
        if key not in prepared:
            es = cache.get(s.arms, q["bin"], s.bins)
            es = es[(es["outcome"] == q["outcome"]) & (es["effect"] == q["effect"]) & (es["time_bin"] == q["bin"])]
            if q.get("route", "all") != "all":
                es = es[es["route"] == q["route"]]
            groups = [q["group"], "single_arm"] if include_single else [q.get("group", "contrast")]
            es = es[es["group"].isin(groups)].reset_index(drop=True)
            arrays = {"yi": es["yi"].to_numpy(float), "vi": es["vi"].to_numpy(float)}
            if levels_spec is not None:
                arrays["level"] = analyses._levels(es, levels_spec).to_numpy()
            prepared[key] = (arrays, _masks(es, cfg), (es["group"] == "single_arm").to_numpy())
        arrays, masks, single = prepared[key]
        ok = masks["controls"][s.controls] & masks["population"][s.population] & masks["crossover"][s.crossover]
        if include_single and s.single_arm == "exclude":
            ok &= ~single
        out.append({name: a[ok] for name, a in arrays.items()})
    return out


def _pooled_values(cache, cfg, q, specs, fam, anchor) -> list[tuple]:
    """Collect each spec's (yi, vi), fit all specs of one estimator x CI method in one batch."""
    include_single = q["group"] == "ketamine" and "include" in cfg["multiverse"]["single_arm"]
    cells = [(c["yi"], c["vi"]) for c in _cells(cache, cfg, q, specs, include_single)]
    out: list = [None] * len(specs)
    for (method, test), idx in _by_model(specs).items():
        nonempty = [i for i in idx if cells[i][0].size]
        for i in set(idx) - set(nonempty):
            out[i] = (0, math.nan, math.nan, math.nan)
        if not nonempty:
            continue
        Y, V = batch.pad_groups([cells[i][0] for i in nonempty], [cells[i][1] for i in nonempty])
        res = batch.pool_arrays(Y, V, method=method, test=test, level=cfg["model"]["level"], axis=0)
        for j, i in enumerate(nonempty):
            k, b, se, lo, hi = (res[f][j] for f in ("k", "estimate", "se", "ci_low", "ci_high"))
            out[i] = _to_metric(fam, q, int(k), float(b), float(se), float(lo), float(hi), anchor)
    return out


def _to_metric(fam, q, k, b, se, lo, hi, anchor) -> tuple:
    if fam == "rate":
        return k, float(inv_logit(b)), float(inv_logit(lo)), float(inv_logit(hi))
    if fam == "ratio":
        ratio, rlo, rhi, _ = metrics.ratio_to_anchor(b, se, lo, hi, anchor)
        return k, ratio, rlo, rhi
    if fam == "nnt":
        if not b > 0:
            return k, math.nan, math.nan, math.nan
        return (k, 1 / b, 1 / hi, 1 / lo) if lo > 0 else (k, 1 / b, math.nan, math.nan)
    est, clo, chi = (analyses.to_reporting_scale(q["effect"], x) for x in (b, lo, hi))
    return k, float(est), float(clo), float(chi)


def _by_model(specs) -> dict:
    out: dict = {}
    for i, s in enumerate(specs):
        out.setdefault((s.method, s.test), []).append(i)
    return out


def _moderator_values(cache, cfg, q, specs) -> list[tuple]:
    """Moderator difference (or omnibus p) per spec, from ``rma(yi, vi, mods = ~ factor(level))``."""
    spec_m = cfg["moderators"][q["moderator"]]
    out = []
    for s, cell in zip(specs, _cells(cache, cfg, {**q, "group": "contrast"}, specs, levels_spec=spec_m)):
        levels_of = cell["level"]
        levels = sorted(set(levels_of), key=lambda lv: (lv != spec_m["reference"], lv))
        if len(levels) < 2 or len(levels_of) <= len(levels):
            out.append((0, math.nan, math.nan, math.nan))
            continue
        X = np.column_stack([(levels_of == lv).astype(float) for lv in levels[1:]])
        fit = rma(cell["yi"], cell["vi"], mods=X, method=s.method, test=s.test, level=cfg["model"]["level"])
        if q["pair"] is None:  # omnibus test: the p value, no interval
            out.append((fit.k, float(fit.qm_p), math.nan, math.nan))
            continue
        a, b = q["pair"].split("_vs_")
        if a not in levels or b not in levels:
            out.append((0, math.nan, math.nan, math.nan))
            continue
        diff, _, lo, hi = analyses.level_contrast(fit, levels, a, b)
        out.append((fit.k, diff, lo, hi))
    return out


def _relapse_values(ds, cfg, q, specs) -> list[tuple]:
    by_study = relapse.relapse_by_study(ds["relapse"], cfg)
    out = []
    for s in specs:
        scfg = {**cfg, "model": {**cfg["model"], "method": s.method, "test": s.test}}
        pooled = relapse.pool_relapse(by_study, scfg)
        hit = pooled[(pooled["condition"] == q["condition"]) & (pooled["window"] == q["window"])]
        if hit.empty:
            out.append((0, math.nan, math.nan, math.nan))
        else:
            r = hit.iloc[0]
            out.append((int(r["k"]), float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"])))
    return out


def summarise(mv: pd.DataFrame) -> pd.DataFrame:
    """Per claim: specifications run, how many support the claim (verdict reproduced), the share,
    and the range of the regenerated estimates."""
    rows = []
    for cid, cell in mv.groupby("claim_id", sort=True):
        testable = cell[cell["verdict"] != "not_testable"]
        n = len(testable)
        rows.append({"claim_id": cid, "n_specs": n, "n_support": int(testable["supports"].sum()),
                     "robustness": testable["supports"].mean() if n else math.nan,
                     "spec_low": testable["estimate"].min() if n else math.nan,
                     "spec_high": testable["estimate"].max() if n else math.nan})  # fmt: skip
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
