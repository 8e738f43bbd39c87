"""The typed, frozen configuration every module reads: built once from the validated config.

``config/config.yaml`` (plus ``--config`` overrides) is checked by the schema and the rules of
:mod:`ketamine_meta.core.config`, then turned into a :class:`Config` here. Every block is a frozen
dataclass whose fields are the keys of ``config/README.md``; lists become tuples and mappings
read-only, so no step can change a setting another step relies on. A multiverse specification is
``cfg.with_handling(overrides)``, a new Config, never an edited one.

Values keep the type the YAML gave them (``0`` stays an int): captions print them as written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any


def freeze(value: Any) -> Any:
    """Lists to tuples and dicts to read-only mappings, all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`: plain dicts and lists (for JSON and YAML)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: thaw(getattr(value, f.name)) for f in fields(value) if f.name != "name"}
    return value


def _build(cls, data: Mapping):
    return cls(**{f.name: freeze(data[f.name]) for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Model:
    """``model``: the random-effects model of every pooled analysis."""

    method: str
    test: str
    level: float
    add: float
    min_k_forest: int
    min_k_influence: int
    min_k_regtest: int
    #: effects drawn as forest plots (all are pooled and tabled); odds ratios are left out by default:
    #: a second display of the trials the risk-ratio plot shows (Cochrane Handbook 6.4.1, 10.4.3)
    forest_effects: tuple[str, ...] = ("smd", "log_rr", "rd", "logit_p", "log_hr")


@dataclass(frozen=True)
class TimeBin:
    """One ``time_bins`` entry: hours after the dose, ``low_h < t <= high_h``."""

    name: str
    label: str
    low_h: float
    high_h: float
    nominal_h: float


@dataclass(frozen=True)
class Handling:
    """``handling``: every effect-size choice that moves a number (config/README.md, Effect sizes)."""

    multi_arm: str
    ketamine_doses: str | tuple[float, ...]
    crossover: str
    crossover_r: float
    smd_measure: str
    ci_to_se: str
    controls: tuple[str, ...]
    populations: tuple[str, ...]
    drugs: tuple[str, ...]
    scale_preference: tuple[str, ...]
    measure_preference: tuple[str, ...]
    binary_effects: tuple[str, ...]
    contrast_md_to_g: bool

    def matches(self, overrides: Mapping[str, Any]) -> bool:
        """Whether every key of ``overrides`` has that value here (the primary specification)."""
        return all(getattr(self, k) == freeze(v) for k, v in overrides.items())


@dataclass(frozen=True)
class Moderator:
    """One ``moderators`` entry: the studies.csv column, its reference level, optional recoding."""

    column: str
    reference: str
    recode: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Multiverse:
    methods: tuple[str, ...]
    tests: tuple[str, ...]
    choices: Mapping[str, Mapping[str, Mapping[str, Any]]]
    relapse_methods: tuple[str, ...]


@dataclass(frozen=True)
class RelapseWindow:
    low_days: float
    high_days: float
    nominal_days: float


@dataclass(frozen=True)
class Relapse:
    method: str
    study_ci: str
    condition_groups: Mapping[str, tuple[str, ...]]
    windows: Mapping[str, RelapseWindow]


@dataclass(frozen=True)
class Reference:
    antidepressant_smd_quantity: str


@dataclass(frozen=True)
class Certainty:
    """``claims.certainty``: the GRADE thresholds, fixed before any result."""

    rob_high_share: float
    i2_serious: float
    i2_very_serious: float
    ois_participants: int
    indirect_share: float
    pubbias_min_k: int


@dataclass(frozen=True)
class ClaimRules:
    default_tolerance: Mapping[str, float]
    arithmetic_rel_tolerance: float
    min_k_general: int
    equivalence_alpha: float
    certainty: Certainty


@dataclass(frozen=True)
class Config:
    """The whole resolved configuration (see config/README.md for every key)."""

    data_dir: str
    results_dir: str
    work_dir: str
    claims_file: str
    documents_file: str
    seeds_dir: str
    model: Model
    time_bins: Mapping[str, TimeBin]  # in time order
    window_bin: str
    route_groups: Mapping[str, str]
    handling: Handling
    subsets: Mapping[str, Mapping[str, tuple]]
    moderators: Mapping[str, Moderator]
    multiverse: Multiverse
    relapse: Relapse
    reference: Reference
    claims: ClaimRules
    raw: Mapping[str, Any] = dataclasses.field(repr=False, compare=False, default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> Config:
        """A Config from a validated config mapping (:func:`ketamine_meta.core.config.validate_config`)."""
        bins = sorted(cfg["time_bins"].items(), key=lambda kv: (kv[1]["low_h"], kv[0]))
        rel = cfg["relapse"]
        claims = cfg["claims"]
        return cls(
            data_dir=cfg["data_dir"],
            results_dir=cfg["results_dir"],
            work_dir=cfg.get("work_dir") or "",
            claims_file=cfg["claims_file"],
            documents_file=cfg.get("documents_file") or "",
            seeds_dir=cfg.get("seeds_dir") or "",
            model=_build(Model, cfg["model"]),
            time_bins=MappingProxyType({k: _build(TimeBin, {**b, "name": k}) for k, b in bins}),
            window_bin=cfg.get("window_bin") or "",
            route_groups=freeze(cfg["route_groups"]),
            handling=_build(Handling, cfg["handling"]),
            subsets=freeze(cfg["subsets"]),
            moderators=MappingProxyType({k: _build(Moderator, m) for k, m in cfg["moderators"].items()}),
            multiverse=_build(Multiverse, cfg["multiverse"]),
            relapse=Relapse(
                method=rel["method"],
                study_ci=rel["study_ci"],
                condition_groups=freeze(rel.get("condition_groups", {})),
                windows=MappingProxyType({k: _build(RelapseWindow, w) for k, w in rel["windows"].items()}),
            ),
            reference=_build(Reference, cfg["reference"]),
            claims=ClaimRules(
                default_tolerance=freeze(claims["default_tolerance"]),
                arithmetic_rel_tolerance=claims["arithmetic_rel_tolerance"],
                min_k_general=claims["min_k_general"],
                equivalence_alpha=claims["equivalence_alpha"],
                certainty=_build(Certainty, claims["certainty"]),
            ),
            raw=freeze(cfg),
        )

    def with_handling(self, overrides: Mapping[str, Any]) -> Config:
        """This configuration with some ``handling`` keys replaced (one multiverse specification)."""
        if not overrides:
            return self
        return dataclasses.replace(self, handling=dataclasses.replace(self.handling, **freeze(dict(overrides))))

    def as_dict(self) -> dict[str, Any]:
        """The validated configuration as plain data (what provenance.json records)."""
        return thaw(self.raw)

    def bin_label(self, time_bin: str) -> str:
        """A time bin's label ("24 h"); the window bins' wording otherwise."""
        if time_bin in self.time_bins:
            return self.time_bins[time_bin].label
        return {"any_time": "any time during follow-up", "followup": "over follow-up"}.get(time_bin, time_bin)
