"""Rules across the cells of one row (events <= total, an SE needs its n, a CI needs both ends, a
relapse row needs a count, a proportion or a median, ...). Each takes the parsed row and returns
(column, message, fix) triples; the tables of :mod:`ketamine_meta.data.contract` list which apply.
"""

from __future__ import annotations

from collections.abc import Callable


def _reads(*columns: str):
    """Declare the columns a row check reads: it is skipped on a row where one of them failed its
    own rule (or is missing from the header), so one bad cell is reported once, not again as a
    consequence ("neither se nor CI" after an se of "0,2")."""

    def mark(check):
        check.reads = frozenset(columns)
        return check

    return mark


@_reads("events", "total")
def events_le_total(r: dict) -> list[tuple[str, str, str]]:
    if r.get("events") is not None and r.get("total") is not None and r["events"] > r["total"]:
        return [("events", f"events ({r['events']}) exceed total ({r['total']})", "events <= total")]
    return []


@_reads("se", "sd", "n")
def se_needs_n(r: dict) -> list[tuple[str, str, str]]:
    # a mean without SD/SE or n is kept as printed (a gap is a gap) but cannot enter an SMD
    if r.get("se") is not None and r.get("sd") is None and r.get("n") is None:
        return [("n", "se is given without n, so the SD cannot be recovered", "give n, or the SD")]
    return []


def time_unless(column: str, allowed) -> Callable[[dict], list[tuple[str, str, str]]]:
    """time_h / time_anchor may be empty only when ``column`` says the row is not tied to a time."""

    @_reads(column, "time_h", "time_anchor")
    def check(r: dict) -> list[tuple[str, str, str]]:
        if allowed(r.get(column)):
            return []
        return [
            (c, "is empty but required here", f"give it, or set {column}")
            for c in ("time_h", "time_anchor")
            if r.get(c) is None
        ]

    return check


@_reads("se", "ci_low", "ci_high")
def se_or_ci(r: dict) -> list[tuple[str, str, str]]:
    out = []
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if r.get("se") is None and (lo is None or hi is None):
        out.append(("se", "neither se nor both CI limits are given", "give se or ci_low and ci_high"))
    if lo is not None and hi is not None and lo > hi:
        out.append(("ci_low", f"ci_low ({lo}) is above ci_high ({hi})", "swap the limits"))
    return out


@_reads(
    "n_responders",
    "n_relapsed",
    "proportion_relapsed",
    "median_days_to_relapse",
    "mean_days_to_relapse",
    "followup_days",
    "relapse_definition",
)
def relapse_counts(r: dict) -> list[tuple[str, str, str]]:
    out = []
    n, k = r.get("n_responders"), r.get("n_relapsed")
    if n is not None and k is not None and k > n:
        out.append(("n_relapsed", f"n_relapsed ({k}) exceeds n_responders ({n})", "n_relapsed <= n_responders"))
    if k is not None and n is None:
        out.append(("n_responders", "n_relapsed is given without n_responders", "give the denominator"))
    if (
        k is None
        and r.get("proportion_relapsed") is None
        and r.get("median_days_to_relapse") is None
        and r.get("mean_days_to_relapse") is None
    ):
        out.append(("n_relapsed", "row has no relapse count, proportion or median time", "give one"))
    if (
        (k is not None or r.get("proportion_relapsed") is not None)
        and r.get("followup_days") is None
        and not r.get("relapse_definition")
    ):
        out.append(
            (
                "followup_days",
                "relapses are given without followup_days or a definition saying over what time",
                "give one",
            )
        )
    return out


@_reads("measure", "events", "total", "mean")
def ae_value(r: dict) -> list[tuple[str, str, str]]:
    if r.get("measure") == "proportion":
        need = [c for c in ("events", "total") if r.get(c) is None]
        return [(c, "a proportion needs events and total", "give both counts") for c in need]
    if r.get("measure") and r.get("mean") is None:
        return [("mean", f"measure '{r['measure']}' needs a mean", "give the mean (and its SD, SE or n)")]
    return []


@_reads("median_ci_low", "median_ci_high")
def median_ci(r: dict) -> list[tuple[str, str, str]]:
    lo, hi = r.get("median_ci_low"), r.get("median_ci_high")
    if lo is not None and hi is not None and lo > hi:
        return [("median_ci_low", f"median_ci_low ({lo}) is above median_ci_high ({hi})", "swap")]
    return []
