"""Effect sizes, step 1 (select): which arms, rows and time points of a study enter, under the
config's ``handling`` rules; the typed conversion flags every later step records.

A study's arms are filtered once (:class:`Study`: kept doses, controls, crossover participants);
rows are picked by the preferred scale and measure (:func:`pick_rows`) and the measure rule
(:data:`MEASURE_RULES`, Cochrane Handbook 10.5.2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketamine_meta.core.settings import Config

EFFECT_COLUMNS = [
    "study_id",
    "comparison",
    "dose_mg_per_kg",
    "outcome",
    "group",
    "route",
    "time_bin",
    "time_h",
    "time_anchor",
    "effect",
    "yi",
    "vi",
    "n_treatment",
    "n_control",
    "n_participants",
    "events_treatment",
    "events_control",
    "scale",
    "measure",
    "design",
    "crossover",
    "randomized",
    "control",
    "drug",
    "population",
    "dosing",
    "year",
    "basis",
    "conversions",
    "baseline_diff_sd",
    "derivation",
    "source_rows",
    "window",
]

#: Typed flags for every conversion between what a trial printed and ``yi``/``vi`` (column
#: ``conversions``, ``;``-joined, sorted), so that they can be filtered and varied.
CONVERSIONS = {
    "sd_from_se": "arm SD recovered from its SE x sqrt(n) (Handbook 6.5.2.3)",
    "se_from_ci_t": "SE from a 95% CI divided by 2 t(df) (Handbook 6.5.2.3, small samples)",
    "se_from_ci_z": "SE from a 95% CI divided by 2 x 1.96",
    "md_to_g": "g from a mean difference and its SE, pooled SD recovered as SE / sqrt(1/n1 + 1/n2)",
    "adjusted_se": "the SE is that of a model-adjusted (ANCOVA/MMRM/LS-mean) contrast: the recovered SD is residual",
    "d_to_g": "printed Cohen's d corrected with Hedges' J",
    "paired_to_between": "within-person scale put on the between-person SD with the within-person correlation r",
    "paired_variance": "variance of a paired (crossover) analysis, Handbook 23.2.7: (1/N + g^2/2N) 2(1 - r)",
    "crossover_as_parallel": "crossover arm counts entered as two independent groups (conservative, Handbook 23.2.6)",
    "first_period": "first-period data of a crossover trial only (analysed as parallel groups)",
    "arms_combined": "several arms combined into one (Handbook 6.5.2.10)",
    "control_split": "shared control n divided among the comparisons",
    "n_from_arms": "group sizes from arms.csv n_randomized (not printed with the contrast)",
    "n_from_study": "crossover participants from studies.csv n_randomized",
    "basis_unknown": "the page does not say whether the printed SMD is of change or endpoint scores",
    "strata_combined": "contrasts of independent strata or cohorts of one trial combined by inverse variance",
}


#: Bases of an SMD (what was differenced): Cochrane Handbook 10.5.2 does not mix change and endpoint
#: SMDs; baseline-adjusted contrasts (ANCOVA / MMRM / LS means) may join either.
BASES = ("change", "endpoint", "adjusted", "unknown")


def flag_text(*names: str) -> str:
    bad = [n for n in names if n not in CONVERSIONS]
    if bad:
        raise ValueError(f"unknown conversion flag(s) {bad}")  # programming error
    return ";".join(sorted(set(names)))


def assign_bin(time_h: float, bins: dict) -> str | None:
    """Name of the bin with ``low_h < time_h <= high_h``, or None."""
    for name, b in bins.items():
        if b.low_h < time_h <= b.high_h:
            return name
    return None


def source_rows(table: str, rows) -> str:
    return ";".join(f"{table}.csv:{int(r)}" for r in sorted(rows))


def _key(x) -> float:
    """A dose as a set key: missing doses (flexible dosing) compare equal."""
    return -1.0 if x is None or pd.isna(x) else float(x)


def _keep_ketamine_arm(arm: pd.Series, doses) -> bool:
    if doses == "all" or pd.isna(arm["dose_mg_per_kg"]):
        return True
    return any(abs(float(arm["dose_mg_per_kg"]) - float(d)) < 1e-9 for d in doses)


class Study:
    """Arms and metadata of one study, with the config's arm filters applied."""

    def __init__(self, st: pd.Series, arms: pd.DataFrame, cfg: Config):
        self.st = st
        self.route = cfg.route_groups[st["route"]]
        h = cfg.handling
        k = arms[arms["role"] == "ketamine"]
        self.all_ket = list(k["arm_id"])
        self.ket = [r["arm_id"] for _, r in k.iterrows() if _keep_ketamine_arm(r, h.ketamine_doses)]
        self.ctl = list(arms.loc[arms["role"] == "control", "arm_id"])
        self.arm_n = {a: (None if pd.isna(n) else float(n)) for a, n in zip(arms["arm_id"], arms["n_randomized"])}
        self.arm_dose = dict(zip(arms["arm_id"], arms["dose_mg_per_kg"].astype(float)))
        self.arm_mg = dict(zip(arms["arm_id"], arms["dose_mg"].astype(float)))
        self.crossover = st["design"] == "crossover"
        self.n_participants = None if pd.isna(st["n_randomized"]) else float(st["n_randomized"])
        self.comparative = bool(st["randomized"]) and st["design"] != "single_arm" and self.ket and self.ctl
        self.meta = {
            "route": self.route,
            "design": st["design"],
            "crossover": self.crossover,
            "randomized": bool(st["randomized"]),
            "control": st["control"],
            "drug": st["drug"],
            "population": st["population"],
            "dosing": st["dosing"],
            "year": None if pd.isna(st["year"]) else int(st["year"]),
        }

    def dose_arms(self) -> int:
        """How many distinct ketamine doses the kept arms have (strata of one dose, such as
        SUSTAIN-1's remitters and responders, are not dose arms)."""
        doses = {(_key(self.arm_dose.get(a)), _key(self.arm_mg.get(a))) for a in self.ket}
        return len(doses)

    def shared_control(self) -> bool:
        """Several dose arms against fewer control arms: a printed contrast of one of them is not the
        trial's combined comparison (cohorts or strata with their own controls are not affected)."""
        return self.dose_arms() > max(len(self.ctl), 1)

    def pairs(self, n1, n2) -> tuple[float | None, bool]:
        """Participants of a crossover comparison, and whether that number is the study's N.

        Arms of a crossover hold either everyone who had that condition (then min(n1, n2)
        completed both) or the two randomized sequence groups (then n1 + n2 is the study's N and
        every participant had both conditions)."""
        n = self.n_participants
        if n1 and n2:
            if n and abs(n1 + n2 - n) < 0.5 and max(n1, n2) < n:
                return n, True
            return float(min(n1, n2)), False
        return n, True

    def dose(self, arm_ids) -> float:
        """The per-kg dose shared by these ketamine arms, else NaN (mixed or fixed-mg doses)."""
        doses = {self.arm_dose.get(a, np.nan) for a in arm_ids}
        return doses.pop() if len(doses) == 1 else np.nan

    def comparisons(self, multi_arm: str) -> list[tuple[list[str], list[str], float]]:
        """(ketamine arms, control arms, fraction of the control n used) per comparison."""
        if multi_arm == "combine" or len(self.ket) <= 1:
            return [(self.ket, self.ctl, 1.0)]
        if multi_arm == "split_control":
            return [([a], self.ctl, 1.0 / len(self.ket)) for a in self.ket]
        raise ValueError(f"unknown multi_arm rule {multi_arm!r}")


def period_rows(study: Study, rows: pd.DataFrame, h: dict) -> tuple[pd.DataFrame, bool]:
    """A crossover study's rows for the configured crossover rule, and whether they are first-period
    rows (analysed as parallel groups). ``first_period`` keeps only rows marked ``first``; ``paired``
    prefers both-period rows and falls back to first-period rows where only those exist."""
    if not study.crossover or "crossover_period" not in rows:
        return rows, False
    period = rows["crossover_period"].fillna("both")
    first = rows[period == "first"]
    if h.crossover == "first_period":
        return first, True
    both = rows[period != "first"]
    return (both, False) if len(both) else (first, True)


def pick_rows(rows: pd.DataFrame, prefs: list[tuple[str, list]], need_arms: list[list[str]]):
    """First combination of preferred column values for which every arm list has rows."""
    if rows.empty:
        return None
    options = [rows]
    for col, order in prefs:
        ranked = sorted(rows[col].dropna().unique(), key=lambda v: (order.index(v) if v in order else len(order), v))
        options = [o[o[col] == val] for o in options for val in ranked]
    for o in options:
        if all(any(a in set(o["arm_id"]) for a in arms) for arms in need_arms):
            return o
    return None


#: Which SMD bases each ``handling.smd_measure`` rule admits (Cochrane Handbook 10.5.2: SMDs of
#: change and of endpoint scores are not combined; adjusted contrasts may join either; a printed SMD
#: whose basis the page does not state is kept and flagged ``basis_unknown``).
MEASURE_RULES = {
    "change": ("change", "adjusted", "unknown"),
    "endpoint": ("endpoint", "adjusted", "unknown"),
    "mixed": BASES,
}


def measure_allowed(es: pd.DataFrame, rule: str) -> pd.Series:
    """Rows the ``smd_measure`` rule keeps (non-SMD rows always)."""
    return (es["effect"] != "smd") | es["basis"].isin(MEASURE_RULES[rule])


def in_primary(es: pd.DataFrame, cfg: Config) -> pd.Series:
    """Which effect sizes the primary analyses use (control types, populations; the crossover and
    measure rules act earlier, when the effect sizes are built and binned)."""
    h = cfg.handling
    ok = es["population"].isin(h.populations) & es["drug"].isin(h.drugs)
    ok &= es["control"].isin(h.controls) | (es["group"] == "single_arm")
    return ok
