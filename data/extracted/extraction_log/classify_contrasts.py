"""One-off (session 2): classify the existing contrasts.csv rows by what kind of statistic they print.

The new contract columns `adjustment`, `measure` and `paired` (see config/README.md, "Effect-size
methods") describe the printed statistic, not a number: each value below was read off the row's own
`evidence` / `derivation` text (quoted in the comment), so no page was re-read for it. Rows not
listed keep the columns empty (= not stated on the page).
"""

import csv
import sys

CLASSIFY = {
    # row: (adjustment, measure, paired)  -- the words in evidence/derivation that decide it
    2: ("lsmean", "", ""),  # canuso2018 "least-square mean difference"
    3: ("lsmean", "", ""),
    4: ("lsmean", "", ""),
    7: ("", "", "true"),  # diazgranados2010 crossover "drug difference effect size" (both periods)
    8: ("", "", "true"),
    10: ("lsmean", "", ""),  # fu2020 "least-squares mean difference"
    11: ("lsmean", "", ""),  # glue2024 "LS mean difference"
    16: ("", "change", ""),  # grunebaum2018 "The reduction in SSI score ... was 4.96 points greater"
    19: ("", "change", ""),  # grunebaum2018 "Improvement in the Profile of Mood States ... greater"
    22: ("lsmean", "", ""),  # ionescu2021 "least-squares mean difference"
    23: ("lsmean", "", ""),
    24: ("ancova", "", ""),  # jelovac2025 "adjusted mean difference"
    25: ("lsmean", "", ""),  # kosikgonzalez2025 derivation "LS means"
    26: ("lsmean", "", ""),
    27: ("", "", "true"),  # lapidus2014 derivation "paired crossover estimate"
    30: ("ancova", "", ""),  # murrough2013 "After adjustment for baseline scores and site"
    32: ("mmrm", "", ""),  # ochsross2020 "MMRM analyses"
    33: ("lsmean", "", ""),  # popova2019 "difference of least square means"
    40: ("", "", "true"),  # zarate2012 crossover drug-difference effect size (both periods)
    41: ("", "", "true"),
}

path = sys.argv[1] if len(sys.argv) > 1 else "data/extracted/contrasts.csv"
with open(path, encoding="utf-8", newline="") as f:
    rows = list(csv.reader(f))
header = rows[0]
new = [c for c in ("adjustment", "measure", "paired") if c not in header]
prov = header.index("source_url")
header[prov:prov] = new
out = [header]
for i, r in enumerate(rows[1:], start=2):
    a, m, p = CLASSIFY.get(i, ("", "", ""))
    vals = dict(zip(("adjustment", "measure", "paired"), (a, m, p)))
    r[prov:prov] = [vals[c] for c in new]
    out.append(r)
with open(path, "w", encoding="utf-8", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(out)
