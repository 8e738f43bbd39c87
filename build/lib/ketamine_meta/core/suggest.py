"""Suggestions ('did you mean ...?') for names a user typed: columns, values, config keys, claim fields.

A name is matched to a known one when they are equal ignoring case, spaces, ``_``, ``-`` and ``.``
(``SE`` -> ``se``, ``ci low`` -> ``ci_low``, ``First-Dose`` -> ``first_dose``), or else within a
small edit distance (optimal string alignment: one insertion, deletion, substitution or swap of two
neighbouring letters per step) that grows with the length of the name: 1 up to 4 letters, 2 up to
8, 3 beyond. Short names get little slack because ``sd``/``se`` or ``n``/``mean`` are real and
different columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s_.\-]+")


def normalise(name: str) -> str:
    """``name`` lowercased, without spaces, ``_``, ``-`` or ``.`` (the forms a user mixes up)."""
    return _SEPARATORS.sub("", str(name)).lower()


def _words(name: str) -> list[str]:
    return [w for w in _SEPARATORS.split(str(name).lower()) if w]


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus transposition of neighbours)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _slack(name: str) -> int:
    return 1 if len(name) <= 4 else 2 if len(name) <= 8 else 3


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` was most likely meant to be, or None when none is close."""
    known = [k for k in dict.fromkeys(known) if k != name]
    target = normalise(name)
    if not target:
        return None
    same = [k for k in known if normalise(k) == target]
    if same:
        return same[0]
    # every word typed is a word of the name, a few left out ("dose_mg_kg" -> "dose_mg_per_kg")
    words = set(_words(name))
    wider = sorted((len(_words(k)), i, k) for i, k in enumerate(known) if len(words) >= 2 and words < set(_words(k)))
    if wider:
        return wider[0][2]
    scored = sorted((edit_distance(target, normalise(k)), i, k) for i, k in enumerate(known))
    if scored and scored[0][0] <= _slack(target):
        return scored[0][2]
    return None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for the closest known name, or ``""``."""
    hit = closest(name, known)
    return f"did you mean '{hit}'?" if hit else ""
