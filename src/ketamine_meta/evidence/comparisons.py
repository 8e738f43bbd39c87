"""Turn the contract tables into the effect sizes that enter pooling (``effect_sizes.csv``).

Sign convention: a positive ``yi`` favours ketamine. For symptom scores (lower = better) the SMD is
control minus ketamine, for endpoint and change scores alike; for responders and remitters it is
ketamine versus control; for relapse it is control versus ketamine.

One row per study x comparison x outcome x effect x time bin. Choices that move numbers come from
the ``handling`` block of the config (see ``config/README.md``): how multi-arm trials are merged,
which scale and measure win, which control types and populations enter."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ketamine_meta.core.settings import Config
from ketamine_meta.data.load import Dataset
from ketamine_meta.evidence.compute import binary, continuous, contrast_rows
from ketamine_meta.evidence.select import EFFECT_COLUMNS, MEASURE_RULES, Study, in_primary, measure_allowed


def time_bins_of(df: pd.DataFrame, bins, window_bin: str) -> np.ndarray:
    """Each row's bin, as :func:`~ketamine_meta.evidence.select.assign_bin` gives it for its hour
    (``low_h < time_h <= high_h``, the first bin that fits), except: relapse rows are judged over the
    follow-up (``followup``) and "at any point in ..." rows (``window``) go to ``window_bin``."""
    t = pd.to_numeric(df["time_h"], errors="coerce").to_numpy(float)
    out = np.full(len(df), None, dtype=object)
    for name, b in bins.items():
        out[(b.low_h < t) & (t <= b.high_h) & pd.isna(out)] = name
    if "window" in df:
        windowed = np.array([isinstance(w, str) and bool(w) for w in df["window"]], dtype=bool)
        out[windowed] = window_bin or None
    out[(df["outcome"] == "relapse").to_numpy()] = "followup"  # not at a dose-relative time
    return out


def _bin_and_pick(df: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Assign time bins and keep one row per study x comparison x outcome x effect x bin: the
    measure rule first, then the preferred scale, then the preferred measure, then the time point
    closest to the bin's nominal hour (ties: the earlier one)."""
    if df.empty:
        return df
    h = cfg.handling
    bins = cfg.time_bins
    window_bin = cfg.window_bin or ""

    df = df.assign(time_bin=time_bins_of(df, bins, window_bin))
    df = df[df["time_bin"].notna()].copy()
    if "basis" in df:
        df = df[measure_allowed(df, h.smd_measure)]
    nominal = {k: v.nominal_h for k, v in bins.items()}
    scales, measures = h.scale_preference, h.measure_preference
    df["_scale"] = [scales.index(x) if x in scales else len(scales) for x in df["scale"].fillna("")]
    df["_measure"] = [measures.index(x) if x in measures else len(measures) for x in df["measure"].fillna("")]
    df["_dist"] = [abs(t - nominal[b]) if b in nominal else -t for t, b in zip(df["time_h"], df["time_bin"])]
    keys = ["study_id", "comparison", "outcome", "group", "effect", "time_bin"]
    df = df.sort_values([*keys, "_scale", "_measure", "_dist", "time_h"])
    df = df.drop_duplicates(keys, keep="first")
    return df.drop(columns=["_dist", "_scale", "_measure"])


def effect_sizes_by_time(ds: Dataset, cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Arm-level and contrast-level effect sizes at every printed time point, before binning.

    Depends on the ``handling`` rules that shape comparisons (multi-arm, doses, scales, measures,
    binary effects) but not on the time bins; :func:`bin_effect_sizes` bins them. The multiverse,
    which builds them under many rule sets, uses :class:`StudyMemo` directly.
    """
    return StudyMemo(ds).by_time(cfg)[1]


class StudyMemo:
    """Effect sizes by time, each study built once per distinct set of rules that can move it.

    For calls whose configs differ only in ``handling`` (the multiverse), a study's rows depend on
    the arms it keeps (``ketamine_doses``), the multi-arm rule only where it keeps several
    ketamine arms, the crossover rule only if it is a crossover trial, and the other ``handling``
    keys the build reads. The measure rule, the primary-set filters (controls, populations, drugs)
    act after the build (:func:`binned_rows`, :func:`finish_effect_sizes`) and are left out of the
    key, so most of a multiverse's ~90 rule combinations reuse most studies' rows.
    ``tests/test_multiverse.py`` checks every specification against a build from scratch."""

    #: handling keys read by the binning or the primary flag, never by the build: held constant in keys
    _AFTER_BUILD = {"smd_measure": "", "controls": (), "populations": (), "drugs": ()}

    def __init__(self, ds: Dataset):
        self.ds = ds
        self._rows: dict = {}
        self._tables: dict = {}  # tuple of study keys -> (table id, tables)
        self._study: dict = {}
        self._rest = None  # the config but its handling: it must not change between calls
        studies = ds["studies"].sort_values("study_id")
        self._studies = list(studies.iterrows())
        # each table split by study once (not filtered once per study)
        self._arms, self._cont, self._binr, self._con = (
            _by_study(ds[t]) for t in ("arms", "outcomes_continuous", "outcomes_binary", "contrasts")
        )

    def _key(self, study: Study, cfg: Config) -> tuple:
        h = cfg.handling
        several = len(study.ket) > 1
        rest = dataclasses.replace(
            h,
            **self._AFTER_BUILD,
            ketamine_doses="",
            multi_arm=h.multi_arm if several else "",
            crossover=h.crossover if study.crossover else "",
            crossover_r=h.crossover_r if study.crossover else 0.0,
        )
        return (study.st["study_id"], tuple(study.ket), rest)

    def by_time(self, cfg: Config, crossover: bool | None = None) -> tuple[int, tuple[pd.DataFrame, pd.DataFrame]]:
        """(table id, (arm-level, contrast-level)) as :func:`effect_sizes_by_time`; equal ids mean
        equal tables (the same objects), so a caller can bin a table once per id."""
        rest = dataclasses.replace(cfg, handling=None)
        if self._rest is None:
            self._rest = rest
        elif rest != self._rest:
            raise ValueError("a StudyMemo serves configurations that differ only in their handling rules")
        keys, parts = [], []
        for _, st in self._studies:
            if crossover is not None and (st["design"] == "crossover") != crossover:
                continue
            sid = st["study_id"]
            # a Study reads only the route groups (fixed) and the kept doses from the config
            skey = (sid, cfg.handling.ketamine_doses)
            if skey not in self._study:
                self._study[skey] = Study(st, self._arms(sid), cfg)
            study = self._study[skey]
            key = self._key(study, cfg)
            if key not in self._rows:
                arm = continuous(study, self._cont(sid), cfg) if study.comparative else []
                arm += binary(study, self._binr(sid), cfg)
                con = contrast_rows(study, self._con(sid), cfg) if study.comparative else []
                self._rows[key] = (arm, con)
            keys.append(key)
            parts.append(self._rows[key])
        tkey = tuple(keys)
        if tkey not in self._tables:
            arm_level = [r for a, _ in parts for r in a]
            contrast_level = [r for _, c in parts for r in c]
            self._tables[tkey] = (len(self._tables), (pd.DataFrame(arm_level), pd.DataFrame(contrast_level)))
        return self._tables[tkey]


def _by_study(table: pd.DataFrame):
    """study_id -> that study's rows (an empty frame with the table's columns if it has none)."""
    groups = dict(tuple(table.groupby("study_id", sort=False)))
    empty = table.iloc[0:0]
    return lambda sid: groups.get(sid, empty)


def _one_contrast_per_cell(con: pd.DataFrame) -> pd.DataFrame:
    """One contrast per study x outcome x effect x bin. Contrasts of disjoint arm pairs (independent
    strata or cohorts, each with its own control, e.g. SUSTAIN-1's remitters and responders) are
    combined by inverse-variance weighting, as one trial's estimate (flag ``strata_combined``);
    otherwise the largest treatment arm's contrast is kept (then the first)."""
    keys = ["study_id", "outcome", "effect", "time_bin"]
    ordered = con.sort_values([*keys, "n_treatment"], ascending=[True] * 4 + [False])
    # most cells hold one contrast: keep each cell's first row, and revisit only cells with several
    size = ordered.groupby(keys, sort=False)["effect"].transform("size").to_numpy()
    out = ordered.drop_duplicates(keys, keep="first").reset_index(drop=True)
    if not (size > 1).any():
        return out
    at = {k: i for i, k in enumerate(zip(*(out[c] for c in keys)))}
    combined = {}
    for key, cell in ordered[size > 1].groupby(keys, sort=False):
        arms = [c.split(" vs ") for c in cell["comparison"]]
        treat, ctl = [a[0] for a in arms], [a[1] for a in arms]
        if len(set(treat)) == len(treat) and len(set(ctl)) == len(ctl) and not set(treat) & set(ctl):
            w = 1 / cell["vi"].to_numpy(float)
            row = out.loc[at[key]]
            row["yi"] = float((w * cell["yi"].to_numpy(float)).sum() / w.sum())
            row["vi"] = float(1 / w.sum())
            for col in ("n_treatment", "n_control", "n_participants"):
                row[col] = cell[col].sum(min_count=1)
            row["comparison"] = " + ".join(cell["comparison"])
            row["source_rows"] = ";".join(cell["source_rows"])
            flags = set(";".join(cell["conversions"].fillna("")).split(";")) - {""}
            row["conversions"] = ";".join(sorted(flags | {"strata_combined"}))
            row["derivation"] = "strata combined by inverse-variance weighting: " + " | ".join(cell["derivation"])
            combined[at[key]] = row
    if combined:
        out = out.astype(object)  # combined rows mix text and numbers, as the row-by-row build did
        for i, row in combined.items():
            out.loc[i] = row
    return out.astype({c: con[c].dtype for c in con.columns if c in ("yi", "vi")})


def bin_effect_sizes(arm_level: pd.DataFrame, contrast_level: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """Bin, keep one time point per bin, let arm-level data win over contrasts, flag the primary set."""
    return finish_effect_sizes([binned_rows(arm_level, contrast_level, cfg)], cfg)


def binned_rows(arm_level: pd.DataFrame, contrast_level: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """:func:`bin_effect_sizes` before the final sort: every step works within a study, so the rows
    of disjoint sets of studies can be binned apart and joined by :func:`finish_effect_sizes` (the
    multiverse bins the parallel trials once per arm rule, the crossover trials per crossover rule)."""
    arm_df = _bin_and_pick(arm_level, cfg)
    con_df = _bin_and_pick(contrast_level, cfg)
    if not con_df.empty:
        con_df = _one_contrast_per_cell(con_df)
        if not arm_df.empty:
            have = set(zip(arm_df["study_id"], arm_df["outcome"], arm_df["effect"], arm_df["time_bin"]))
            keep = [
                (s, o, e, b) not in have
                for s, o, e, b in zip(con_df["study_id"], con_df["outcome"], con_df["effect"], con_df["time_bin"])
            ]
            con_df = con_df[keep]  # arm-level data win over printed contrasts
    return (
        pd.concat([d for d in (arm_df, con_df) if not d.empty], ignore_index=True)
        if (len(arm_df) or len(con_df))
        else pd.DataFrame(columns=EFFECT_COLUMNS)
    )


def finish_effect_sizes(parts: list[pd.DataFrame], cfg: Config) -> pd.DataFrame:
    """Join :func:`binned_rows` parts: every effect column, the stable sort, the primary flag."""
    parts = [d for d in parts if not d.empty]
    es = (
        pd.concat(parts, ignore_index=True)
        if len(parts) > 1
        else (parts[0] if parts else pd.DataFrame(columns=EFFECT_COLUMNS))
    )
    for c in EFFECT_COLUMNS:
        if c not in es:
            es[c] = np.nan
    order = {b: i for i, b in enumerate([*cfg.time_bins, cfg.window_bin or "any_time", "followup"])}
    es = es.assign(_b=es["time_bin"].map(order)).sort_values(
        ["outcome", "effect", "group", "_b", "study_id", "comparison"]
    )
    es = es[EFFECT_COLUMNS].reset_index(drop=True)
    es["primary"] = in_primary(es, cfg)
    return es


def build_effect_sizes(ds: Dataset, cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All effect sizes of a data set, and a log of the input rows that produced none.

    Returns
    -------
    effect_sizes : DataFrame with :data:`EFFECT_COLUMNS` and ``primary``, sorted.
    unused : DataFrame (``table``, ``row``, ``study_id``, ``reason``) of rows not used.
    """
    es = bin_effect_sizes(*effect_sizes_by_time(ds, cfg), cfg)
    return es, _unused_rows(ds, es, cfg)


def _unused_rows(ds: Dataset, es: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    used = set()
    for s in es["source_rows"].dropna():
        used.update(s.split(";"))
    out = []
    for table in ("outcomes_binary", "outcomes_continuous", "contrasts"):
        for _, r in ds[table].iterrows():
            key = f"{table}.csv:{int(r['_row'])}"
            if key not in used:
                out.append(
                    {
                        "table": f"{table}.csv",
                        "row": int(r["_row"]),
                        "study_id": r["study_id"],
                        "reason": _why_unused(ds, table, r, cfg),
                    }
                )
    return pd.DataFrame(out, columns=["table", "row", "study_id", "reason"])


def _why_unused(ds: Dataset, table: str, r: pd.Series, cfg: Config) -> str:
    h = cfg.handling
    st = ds["studies"].set_index("study_id").loc[r["study_id"]]
    if table != "outcomes_binary" and (not st["randomized"] or st["design"] == "single_arm"):
        return "study is not a randomized controlled comparison"
    if st["design"] == "crossover":
        period = r.get("crossover_period") if isinstance(r.get("crossover_period"), str) else "both"
        if h.crossover == "exclude":
            return "crossover trial (handling.crossover = exclude)"
        if h.crossover == "first_period" and period != "first":
            return "both-period crossover data (handling.crossover = first_period)"
    if table == "contrasts" and h.multi_arm == "combine":
        arms = ds["arms"]
        mine = arms[arms["study_id"] == r["study_id"]]
        ket = mine[mine["role"] == "ketamine"]
        n_doses = len(ket[["dose_mg_per_kg", "dose_mg"]].astype(float).fillna(-1).drop_duplicates())
        if n_doses > max((mine["role"] == "control").sum(), 1):
            return "contrast of one of several ketamine arms (handling.multi_arm = combine needs the combined arm)"
    if table == "outcomes_continuous" and r.get("measure") not in MEASURE_RULES[h.smd_measure]:
        if not (isinstance(r.get("adjusted"), str) and r.get("adjusted")):
            return f"{r.get('measure')} score: not mixed with other SMDs (handling.smd_measure = {h.smd_measure})"
    if table == "outcomes_continuous" and (pd.isna(r["n"]) or (pd.isna(r["sd"]) and pd.isna(r.get("se")))):
        return "no SD/SE or no n printed: cannot enter an SMD"
    if r.get("time_anchor") == "baseline" or r.get("time_h") == 0:
        return "baseline value"
    if table == "contrasts" and r["effect"] == "md":
        return "mean difference without both group sizes (cannot be turned into g) or superseded"
    return "superseded by another row (other scale/measure/time point in the same bin, or arm-level data)"
