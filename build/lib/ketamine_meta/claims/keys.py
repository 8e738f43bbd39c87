"""Metric keys: the one grammar of the names under which ``metrics.csv`` stores every number.

A key is dot-separated: a family's literal head, then named fields (``pooled.<outcome>.<effect>.
<route>.<bin>[.<subset>]``). :data:`GRAMMAR` is the only definition; :class:`MetricKey` parses a
key into its fields by name and formats fields back into a key, so no module reads a key by
position. ``config/README.md`` prints the same grammar (a test compares the two).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

_T = r"[a-z0-9_]+"
_STUDY = r"[a-z]+[0-9]{4}[a-z]?"

#: family -> segments after the head. A segment is a literal (``"=smd_vs_ssri"``), a named field
#: ``name`` (a token), ``name:regex``, or an optional last field ``?name`` / ``?name:regex``.
GRAMMAR: dict[str, tuple[str, tuple[str, ...]]] = {
    "pooled": ("pooled", ("outcome", "effect", "route", "bin", "?subset")),
    "rate": ("rate", ("outcome", "group:ketamine|control|single_arm", "route", "bin", "?subset")),
    "ratio": ("ratio", ("=smd_vs_ssri", "route", "bin")),
    "route_diff": ("route_diff", ("outcome", "effect", "bin", f"pair:{_T}_vs_{_T}")),
    "route_test": ("route_test", ("outcome", "effect", "bin")),
    "relapse": (
        "relapse",
        ("kind:proportion|share", "condition", "induction:single|course|any", "window", "?cohort:remitters"),
    ),  # fmt: skip
    "relapse_days": ("relapse", ("=median_days", "first", "second")),
    "reference": ("reference", ("quantity:[a-z0-9][a-z0-9_.+-]*",)),
    "ae": ("ae", ("event", "effect:log_rr|mh_rr", "route")),
    "ae_rate": ("ae_rate", ("event", "group:ketamine|control", "route")),
    "nnt": ("nnt", ("outcome", "route", "bin")),
    "moderator_diff": ("moderator_diff", ("moderator", "outcome", "effect", "bin", f"pair:{_T}_vs_{_T}")),
    "moderator_test": ("moderator_test", ("moderator", "outcome", "effect", "bin")),
    "dose_slope": ("dose_slope", ("outcome", "effect", "bin")),
    "timecourse_effect": ("timecourse", ("=effect", "route", "dosing:single|repeated", "bin")),
    "timecourse_hours": (
        "timecourse",
        ("quantity:first_distinguishable|peak|last_distinguishable", "route", "dosing:single|repeated"),
    ),  # fmt: skip
    "study": ("study", (f"study_id:{_STUDY}", "outcome", "group:ketamine|control|single_arm", "bin")),
    "study_effect": ("study_effect", (f"study_id:{_STUDY}", "outcome", "effect", "bin")),
    "arithmetic": ("arithmetic", ()),
    "none": ("none", ()),
}


def _segment(seg: str) -> tuple[str | None, str, bool]:
    """(field name or None for a literal, regex, optional)."""
    if seg.startswith("="):
        return None, re.escape(seg[1:]), False
    optional = seg.startswith("?")
    name, _, rx = seg.lstrip("?").partition(":")
    return name, rx or _T, optional


def _compile(head: str, segs: tuple[str, ...]) -> re.Pattern:
    body = re.escape(head)
    for seg in segs:
        name, rx, optional = _segment(seg)
        part = rf"\.(?P<{name}>{rx})" if name else rf"\.{rx}"
        body += f"(?:{part})?" if optional else part
    return re.compile(f"^{body}$")


PATTERNS = MappingProxyType({fam: _compile(head, segs) for fam, (head, segs) in GRAMMAR.items()})


def family_of(metric: str) -> str | None:
    """The family a key belongs to (``"pooled"``), or None if it follows no rule of the grammar."""
    for fam, pat in PATTERNS.items():
        if pat.match(metric):
            return fam
    return None


@dataclass(frozen=True)
class MetricKey:
    """A parsed metric key: its family and its named fields (an absent optional field is None)."""

    family: str
    fields: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def parse(cls, metric: str) -> MetricKey:
        for fam, pat in PATTERNS.items():
            m = pat.match(metric)
            if m:
                return cls(fam, MappingProxyType(m.groupdict()))
        raise ValueError(f"metric key {metric!r} follows no rule of the grammar (config/README.md, 'Metric keys')")

    @classmethod
    def of(cls, family: str, **fields) -> MetricKey:
        """A key from its fields; every field the family names must be given (optional ones may be None)."""
        names = {_segment(s)[0]: _segment(s)[2] for s in GRAMMAR[family][1] if _segment(s)[0]}
        unknown = set(fields) - set(names)
        missing = [n for n, opt in names.items() if not opt and fields.get(n) in (None, "")]
        if unknown or missing:
            raise ValueError(f"{family} key: unknown fields {sorted(unknown)}, missing {missing}")
        return cls(family, MappingProxyType({n: fields.get(n) for n in names}))

    def __getitem__(self, name: str):
        return self.fields[name]

    def get(self, name: str, default=None):
        value = self.fields.get(name)
        return default if value is None else value

    def __str__(self) -> str:
        head, segs = GRAMMAR[self.family]
        parts = [head]
        for seg in segs:
            name, _, optional = _segment(seg)
            if name is None:
                parts.append(seg[1:])
            elif self.fields.get(name) not in (None, ""):
                parts.append(str(self.fields[name]))
            elif not optional:
                raise ValueError(f"{self.family} key without its field {name!r}")
        return ".".join(parts)


def key(family: str, **fields) -> str:
    """The text of a key built from its fields: ``key("nnt", outcome="response", route="iv", bin="h24")``."""
    return str(MetricKey.of(family, **fields))


def unit_of(metric: str) -> str:
    """The scale a key's value is on, as the figures label their panels: claims on different
    scales never share an axis."""
    k = MetricKey.parse(metric)
    fam = k.family
    if fam in ("rate", "study") or (fam == "relapse" and k["kind"] == "proportion"):
        return "proportion"
    if fam in ("pooled", "dose_slope"):
        return {"smd": "g", "rd": "risk difference"}.get(k["effect"], "ratio (RR, OR, HR)")
    if fam in ("route_diff", "moderator_diff"):
        return "difference in g" if k["effect"] == "smd" else "difference (analysis scale)"
    if fam in ("route_test", "moderator_test"):
        return "p"
    if fam == "ratio":
        return "ratio to antidepressant g"
    if fam == "timecourse_effect":
        return "g"
    if fam == "timecourse_hours":
        return "hours"
    if fam == "nnt":
        return "patients"
    return "days" if fam == "relapse_days" else "value"
