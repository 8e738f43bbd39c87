"""The multiverse: every claim that rests on pooled data, regenerated under every combination of
defensible analysis choices that can move its number (enumerated, never sampled).

Choices (config ``multiverse``): the τ² estimator and CI method (only those defensible at small k:
REML and PM with Knapp-Hartung), and the effect-size choices of ``multiverse.choices``, each an
override of ``handling``: SMD measure (change / endpoint / mixed), converting printed mean
differences to g or not, crossover analysis (paired with r = 0.2 / 0.5 / 0.8, first period only,
excluded), dose arms (pooled, 0.5 mg/kg only, split control), control type (any placebo, inert
placebo, active placebo) and drug (any, racemic only). Relapse proportions vary the pooling method
(GLMM or pooled counts).

Specifications that give the same analysis (same estimator and CI method on the same effect
sizes) are counted once (``n_distinct``); specifications with no data are counted and shown
(``n_untestable``), never dropped. Robustness is the share of distinct testable analyses that
reproduce the claim, and is not given when every analysis rests on one study (one study cannot be
"robust"). Effect sizes are built once per (dose-arm rule, crossover rule) and filtered per
measure and conversion rule; all intercept-only pools of one estimator and CI method are fitted
together by the batched engine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ketamine_meta.claims import labels, verdicts
from ketamine_meta.claims import registry as claims
from ketamine_meta.claims.keys import MetricKey
from ketamine_meta.claims.metric_families import ratio_to_anchor
from ketamine_meta.core.config import primary_choices
from ketamine_meta.core.settings import Config, Handling
from ketamine_meta.data.load import Dataset
from ketamine_meta.evidence import analyses, comparisons, relapse
from ketamine_meta.stats import batch
from ketamine_meta.stats.effects import inv_logit
from ketamine_meta.stats.pooling import rma

DIMENSIONS = ("method", "test", "measure", "conversion", "crossover", "arms", "controls", "drug")
MULTIVERSE_COLUMNS = [
    "claim_id", "metric", "spec_id", *DIMENSIONS, "is_primary", "k", "estimate", "ci_low", "ci_high", "verdict",
    "supports", "distinct_id",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "claim_id", "n_specs", "n_distinct", "n_untestable", "n_support", "robustness", "spec_low", "spec_high", "max_k",
]  # fmt: skip

_SMD = ("method", "test", "measure", "conversion", "crossover", "arms", "controls", "drug")
_BINARY = ("method", "test", "crossover", "arms", "controls", "drug")
#: Metric families whose number comes from pooling, and the choices that can move each.
FAMILY_DIMENSIONS = {
    "pooled": _SMD,
    "nnt": _BINARY,
    "ratio": _SMD,
    "rate": _BINARY,
    "route_diff": _SMD,
    "route_test": _SMD,
    "moderator_diff": _SMD,
    "moderator_test": _SMD,
    "relapse": ("method",),
}


@dataclass(frozen=True)
class Spec:
    method: str
    test: str
    measure: str
    conversion: str
    crossover: str
    arms: str
    controls: str
    drug: str

    @property
    def spec_id(self) -> str:
        return "|".join(getattr(self, d) for d in DIMENSIONS)


def primary_spec(cfg: Config, family: str = "pooled") -> Spec:
    p = primary_choices(cfg)
    method = cfg.relapse.method if family == "relapse" else cfg.model.method
    return Spec(method, cfg.model.test, *(p[d] for d in DIMENSIONS[2:]))


def specifications(cfg: Config, family: str) -> list[Spec]:
    """All specifications for a metric family: the product over the choices that can move it,
    the others held at the primary choice. Order is fixed (config order), so output is stable."""
    m = cfg.multiverse
    base = primary_spec(cfg, family)
    options = {"method": m.relapse_methods if family == "relapse" else m.methods, "test": m.tests}
    options |= {d: list(m.choices[d]) for d in DIMENSIONS[2:]}
    dims = FAMILY_DIMENSIONS[family]
    for d in DIMENSIONS:
        if d not in dims:
            options[d] = [getattr(base, d)]
    return [Spec(*combo) for combo in itertools.product(*(options[d] for d in DIMENSIONS))]


class _EffectCache:
    """Effect sizes per specification. Each study's rows are built once per distinct set of rules
    that can move them (:class:`~ketamine_meta.evidence.comparisons.StudyMemo`); a table is binned
    once per measure and conversion rule, and specifications whose tables are the same share one
    canonical key (:meth:`table_key`), so their cells and masks are selected once."""

    def __init__(self, ds: Dataset, cfg: Config):
        self.ds, self.cfg = ds, cfg
        self.memo = comparisons.StudyMemo(ds)
        self._built: dict = {}
        self._table_key: dict = {}
        self._binned_part: dict = {}
        self._binned: dict = {}
        self._cell_rows: dict = {}
        self._arrays: dict = {}  # (table, kind, name) -> one NumPy array over the whole table
        self._handling: dict = {}
        self.cells: dict = {}  # claim cell -> selected rows per effect-size table (see _cells)
        self.masks: dict = {}  # (table, controls, drug) -> primary-set filter of the whole table

    def config(self, s: Spec) -> Config:
        """The configuration of one specification: ``handling`` with its choices' overrides."""
        over: dict = {}
        for d in DIMENSIONS[2:]:
            over.update(self.cfg.multiverse.choices[d][getattr(s, d)])
        return self.cfg.with_handling(over)

    def handling(self, s: Spec) -> Handling:
        if s not in self._handling:
            self._handling[s] = self.config(s).handling
        return self._handling[s]

    def table_key(self, s: Spec) -> tuple:
        """What the binned table of ``s`` depends on: the built rows of the parallel-group and of
        the crossover trials (memo table ids) and the measure and conversion rules."""
        rules = (s.arms, s.crossover, s.measure, s.conversion)
        if rules not in self._table_key:
            cfg = self.config(s)
            # measure and conversion act after the build: build with both allowed, filter in _bin
            bcfg = cfg.with_handling({"contrast_md_to_g": True})
            parts = []
            # the crossover rules move only the crossover trials: the others are built per arm rule
            for crossover, build in ((False, s.arms), (True, (s.arms, s.crossover))):
                if build not in self._built:
                    self._built[build] = self.memo.by_time(bcfg, crossover=crossover)
                pkey, tables = self._built[build]
                bkey = (pkey, s.measure, s.conversion)
                if bkey not in self._binned_part:
                    self._binned_part[bkey] = self._bin(tables, cfg)
                parts.append(bkey)
            key = tuple(parts)
            if key not in self._binned:
                self._binned[key] = comparisons.finish_effect_sizes([self._binned_part[b] for b in parts], cfg)
            self._table_key[rules] = key
        return self._table_key[rules]

    def get(self, s: Spec) -> pd.DataFrame:
        """The binned effect sizes of one specification. Binning works within a study, so the
        parallel-group and the crossover trials are binned apart, each once per distinct table."""
        return self._binned[self.table_key(s)]

    def cell(self, s: Spec, key: tuple[str, str, str, str]) -> tuple[pd.DataFrame, np.ndarray]:
        """The binned table of ``s`` and the positions of one (outcome, effect, time bin, group)
        cell in it; each binned table is split into its cells once."""
        tkey = self.table_key(s)
        if tkey not in self._cell_rows:
            es = self.get(s)
            self._cell_rows[tkey] = (es, es.groupby(["outcome", "effect", "time_bin", "group"], sort=False).indices)
        es, index = self._cell_rows[tkey]
        return es, index.get(key, np.array([], dtype=np.intp))

    @staticmethod
    def _bin(tables: tuple[pd.DataFrame, pd.DataFrame], cfg: Config) -> pd.DataFrame:
        arm, con = tables
        if not cfg.handling.contrast_md_to_g and len(con):
            con = con[~con["conversions"].str.contains("md_to_g", na=False)]
        return comparisons.binned_rows(arm, con, cfg)

    def column(self, tkey: tuple, name: str) -> np.ndarray:
        """One column of a binned table as a NumPy array (``yi``/``vi`` as floats), once per table:
        each of a claim's ~90 tables is then cut into its cell by indexing, not DataFrame filters."""
        ckey = (tkey, "column", name)
        if ckey not in self._arrays:
            col = self._binned[tkey][name]
            self._arrays[ckey] = col.to_numpy(float) if name in ("yi", "vi") else col.to_numpy()
        return self._arrays[ckey]

    def levels(self, tkey: tuple, spec) -> np.ndarray:
        """Every row's moderator level (:func:`ketamine_meta.evidence.analyses._levels`), once per table."""
        ckey = (tkey, "levels", spec.column, tuple(sorted(spec.recode.items())))
        if ckey not in self._arrays:
            self._arrays[ckey] = analyses._levels(self._binned[tkey], spec).to_numpy()
        return self._arrays[ckey]

    def subset(self, tkey: tuple, subset: str | None) -> np.ndarray:
        """Rows in the named subset (all rows for none), once per table."""
        ckey = (tkey, "subset", subset)
        if ckey not in self._arrays:
            self._arrays[ckey] = _subset_mask(self._binned[tkey], self.cfg, subset)
        return self._arrays[ckey]

    def mask(self, s: Spec) -> np.ndarray:
        """The primary-set filter (controls, populations, drugs) of this specification over its
        whole binned table, once per (table, control and drug choice): the rule of
        :func:`ketamine_meta.evidence.select.in_primary`, on NumPy arrays."""
        mkey = (self.table_key(s), s.controls, s.drug)
        if mkey not in self.masks:
            h, es = self.handling(s), self.get(s)
            ok = np.isin(es["population"].to_numpy(), h.populations) & np.isin(es["drug"].to_numpy(), h.drugs)
            ok &= np.isin(es["control"].to_numpy(), h.controls) | (es["group"].to_numpy() == "single_arm")
            self.masks[mkey] = ok
        return self.masks[mkey]


def _parse(metric: str) -> dict:
    """The analysis a claim's metric key names, as the multiverse selects it (fields by name)."""
    k = MetricKey.parse(metric)
    fam = k.family
    if fam == "pooled":
        return {"outcome": k["outcome"], "effect": k["effect"], "route": k["route"], "bin": k["bin"],
                "group": "contrast", "subset": k["subset"]}  # fmt: skip
    if fam == "nnt":
        return {"outcome": k["outcome"], "effect": "rd", "route": k["route"], "bin": k["bin"], "group": "contrast",
                "subset": None}  # fmt: skip
    if fam == "rate":
        return {"outcome": k["outcome"], "effect": "logit_p", "group": k["group"], "route": k["route"],
                "bin": k["bin"], "subset": k["subset"]}  # fmt: skip
    if fam == "ratio":
        return {"outcome": "depression", "effect": "smd", "route": k["route"], "bin": k["bin"], "group": "contrast",
                "subset": None}  # fmt: skip
    if fam in ("route_diff", "route_test"):
        return {"moderator": "route", "outcome": k["outcome"], "effect": k["effect"], "bin": k["bin"],
                "pair": k.get("pair"), "subset": None}  # fmt: skip
    if fam in ("moderator_diff", "moderator_test"):
        return {"moderator": k["moderator"], "outcome": k["outcome"], "effect": k["effect"], "bin": k["bin"],
                "pair": k.get("pair"), "subset": None}  # fmt: skip
    if fam == "relapse":
        return {"condition": k["condition"], "induction": k["induction"], "window": k["window"],
                "cohort": k.get("cohort", "responders")}  # fmt: skip
    raise ValueError(f"no multiverse for metric {metric}")


def run_multiverse(ds: Dataset, cfg: Config, registry: list[claims.Claim]) -> pd.DataFrame:
    """One row per claim x specification (see :data:`MULTIVERSE_COLUMNS`), in a stable order."""
    cache = _EffectCache(ds, cfg)
    anchor = labels.anchor(ds.tables.get("reference_values"), cfg.reference.antidepressant_smd_quantity)
    rows = []
    for c in registry:
        fam = claims.metric_family(c.metric)
        if fam not in FAMILY_DIMENSIONS or c.rule == "arithmetic":
            continue
        if (fam == "ratio" and anchor is None) or c.metric.startswith("relapse.share."):
            continue  # no anchor; or a descriptive range of printed shares, which no choice moves
        q = _parse(c.metric)
        specs = specifications(cfg, fam)
        primary = primary_spec(cfg, fam)
        if fam == "relapse":
            values = _relapse_values(ds, cfg, q, specs)
        elif "moderator" in q:
            values = _moderator_values(cache, cfg, q, specs)
        else:
            values = _pooled_values(cache, cfg, q, specs, fam, anchor)
        for s, (k, est, lo, hi, key) in zip(specs, values):
            if k == 0 or not np.isfinite(est):
                verdict = "not_testable"
            else:
                if c.rule == "equivalence":
                    lo, hi = _equivalence_interval(est, lo, hi, cfg)
                verdict, _ = verdicts.judge(c, est, lo if np.isfinite(lo) else est, hi if np.isfinite(hi) else est, cfg)
            rows.append({"claim_id": c.claim_id, "metric": c.metric, "spec_id": s.spec_id,
                         **{d: getattr(s, d) for d in DIMENSIONS}, "is_primary": s == primary, "k": k,
                         "estimate": est, "ci_low": lo, "ci_high": hi, "verdict": verdict,
                         "supports": verdict == "reproduced", "distinct_id": key})  # fmt: skip
    out = pd.DataFrame(rows, columns=MULTIVERSE_COLUMNS)
    # number the distinct analyses within each claim, in first-seen order (stable, readable)
    out["distinct_id"] = out.groupby("claim_id", sort=False)["distinct_id"].transform(lambda s: pd.factorize(s)[0] + 1)
    return out


def _equivalence_interval(est, lo, hi, cfg) -> tuple[float, float]:
    """The (1 - 2 alpha) interval for TOST from a 95% one, assuming symmetry on the analysis scale."""
    level = 1 - 2 * cfg.claims.equivalence_alpha
    scale = (lo - hi) / (2 * 1.959963984540054)

    crit = special.ndtri(0.5 + level / 2)
    return est + crit * scale, est - crit * scale


def _subset_mask(es: pd.DataFrame, cfg: Config, subset: str | None) -> np.ndarray:
    ok = np.ones(len(es), bool)
    if subset:
        for col, allowed in cfg.subsets[subset].items():
            ok &= es[col].isin(allowed).to_numpy()
    return ok


def _cells(cache, cfg, q, specs, levels_spec=None) -> list[dict]:
    """Each spec's rows of the claim's cell (outcome, effect, group, bin, route, subset) as NumPy
    arrays (``yi``, ``vi``, ``study_id`` and, with ``levels_spec``, the moderator ``level``).

    The cell is selected once per distinct effect-size table and its rows once per (table, control
    and drug choice): specifications that share both get the same dict object (callers fit and key
    each distinct cell once), and the ~1,000 specifications of a claim cost dictionary lookups,
    not a DataFrame filter each."""
    out = []
    qkey = tuple(sorted((k, str(v)) for k, v in q.items())) + (str(levels_spec),)
    tables = cache.cells.setdefault(qkey, {})
    selected: dict = {}
    for s in specs:
        tkey = cache.table_key(s)
        if tkey not in tables:
            _, pos = cache.cell(s, (q["outcome"], q["effect"], q["bin"], q.get("group", "contrast")))
            if q.get("route", "all") != "all":
                pos = pos[cache.column(tkey, "route")[pos] == q["route"]]
            arrays = {name: cache.column(tkey, name)[pos] for name in ("yi", "vi", "study_id")}
            if levels_spec is not None:
                arrays["level"] = cache.levels(tkey, levels_spec)[pos]
            tables[tkey] = (pos, arrays, cache.subset(tkey, q.get("subset"))[pos])
        pos, arrays, sub = tables[tkey]
        mkey = (tkey, s.controls, s.drug)
        if mkey not in selected:
            ok = cache.mask(s)[pos] & sub
            selected[mkey] = {name: a[ok] for name, a in arrays.items()}
        out.append(selected[mkey])
    return out


def _rows(cell: dict) -> tuple:
    """The effect sizes of a cell as a sorted, hashable tuple (rounded: equal rows, equal keys);
    computed once per cell object."""
    if "_rows" not in cell:
        cell["_rows"] = tuple(sorted(zip(cell["study_id"], np.round(cell["yi"], 12), np.round(cell["vi"], 12),
                                         cell.get("level", [""] * len(cell["yi"])))))  # fmt: skip
    return cell["_rows"]


def _key(s: Spec, cell: dict) -> tuple:
    """What makes two specifications the same analysis: estimator, CI method and the effect sizes."""
    return (s.method, s.test, _rows(cell))


def _pooled_values(cache, cfg, q, specs, fam, anchor) -> list[tuple]:
    """Collect each spec's (yi, vi); fit every distinct cell of one estimator x CI method once, all
    in one batch, and give each specification its cell's result."""
    cells = _cells(cache, cfg, q, specs)
    out: list = [None] * len(specs)
    for (method, test), idx in _by_model(specs).items():
        distinct: dict = {}  # cell object -> its column in the batch
        for i in idx:
            if cells[i]["yi"].size:
                distinct.setdefault(id(cells[i]), (len(distinct), cells[i]))
            else:
                out[i] = (0, math.nan, math.nan, math.nan, _key(specs[i], cells[i]))
        if not distinct:
            continue
        fitted = [c for _, c in distinct.values()]
        Y, V = batch.pad_groups([c["yi"] for c in fitted], [c["vi"] for c in fitted])
        res = batch.pool_arrays(Y, V, method=method, test=test, level=cfg.model.level, axis=0)
        values = [
            _to_metric(fam, q, int(k), float(b), float(se), float(lo), float(hi), anchor)
            for k, b, se, lo, hi in zip(*(res[f] for f in ("k", "estimate", "se", "ci_low", "ci_high")))
        ]
        for i in idx:
            if out[i] is None:
                out[i] = (*values[distinct[id(cells[i])][0]], _key(specs[i], cells[i]))
    return out


def _to_metric(fam, q, k, b, se, lo, hi, anchor) -> tuple:
    if fam == "rate":
        return k, float(inv_logit(b)), float(inv_logit(lo)), float(inv_logit(hi))
    if fam == "ratio":
        ratio, rlo, rhi, _ = ratio_to_anchor(b, se, lo, hi, anchor)
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
    """Moderator difference (or omnibus p) per spec, from ``rma(yi, vi, mods = ~ factor(level))``;
    identical analyses are fitted once."""
    spec_m = cfg.moderators[q["moderator"]]
    out, seen = [], {}
    for s, cell in zip(specs, _cells(cache, cfg, {**q, "group": "contrast"}, specs, levels_spec=spec_m)):
        key = _key(s, cell)
        if key not in seen:
            seen[key] = _moderator_fit(cell, spec_m, q, s, cfg)
        out.append((*seen[key], key))
    return out


def _moderator_fit(cell, spec_m, q, s, cfg) -> tuple:
    levels_of = cell["level"]
    levels = sorted(set(levels_of), key=lambda lv: (lv != spec_m.reference, lv))
    if len(levels) < 2 or len(levels_of) <= len(levels):
        return (0, math.nan, math.nan, math.nan)
    X = np.column_stack([(levels_of == lv).astype(float) for lv in levels[1:]])
    fit = rma(cell["yi"], cell["vi"], mods=X, method=s.method, test=s.test, level=cfg.model.level)
    if q["pair"] is None:  # omnibus test: the p value, no interval
        return (fit.k, float(fit.qm_p), math.nan, math.nan)
    a, b = q["pair"].split("_vs_")
    if a not in levels or b not in levels:
        return (0, math.nan, math.nan, math.nan)
    diff, _, lo, hi = analyses.level_contrast(fit, levels, a, b)
    return (fit.k, diff, lo, hi)


def _relapse_values(ds, cfg, q, specs) -> list[tuple]:
    by_study = relapse.relapse_by_study(ds["relapse"], cfg)
    out = []
    for s in specs:
        pooled = relapse.pool_relapse(by_study, cfg, method=s.method)
        hit = pooled[(pooled["condition"] == q["condition"]) & (pooled["induction"] == q["induction"])
                     & (pooled["window"] == q["window"]) & (pooled["cohort"] == q["cohort"])]  # fmt: skip
        if hit.empty:
            out.append((0, math.nan, math.nan, math.nan, (s.method, ())))
        else:
            r = hit.iloc[0]
            key = (s.method if int(r["k"]) > 1 else "single", r["studies"])
            out.append((int(r["k"]), float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"]), key))
    return out


def summarise(mv: pd.DataFrame) -> pd.DataFrame:
    """Per claim: specifications run, distinct analyses, untestable ones, how many distinct
    analyses support the claim, the share (none when every analysis rests on one study), and the
    range of the regenerated estimates."""
    rows = []
    for cid, cell in mv.groupby("claim_id", sort=True):
        testable = cell[cell["verdict"] != "not_testable"]
        distinct = testable.drop_duplicates("distinct_id")
        n = len(distinct)
        max_k = int(testable["k"].max()) if n else 0
        robust = distinct["supports"].mean() if n and max_k > 1 else math.nan
        rows.append({"claim_id": cid, "n_specs": len(cell), "n_distinct": n,
                     "n_untestable": int(cell.loc[cell["verdict"] == "not_testable", "distinct_id"].nunique()),
                     "n_support": int(distinct["supports"].sum()), "robustness": robust,
                     "spec_low": testable["estimate"].min() if n else math.nan,
                     "spec_high": testable["estimate"].max() if n else math.nan, "max_k": max_k})  # fmt: skip
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
