"""Session 2: write data/extracted/search/ (queries.csv, hits.csv, exclusion_categories.csv) from the
helpers' search logs and the merged screening.csv, and print the PRISMA-style counts.

Run after merge_session2.py:  python3 data/extracted/extraction_log/build_search_record.py /tmp/pre_session2
(the argument is the folder holding the pre-merge screening.csv = the session-1 list).
"""

from __future__ import annotations

import collections
import csv
import io
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1]
STG = OUT / "staging"
PRE = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pre_session2")
GROUPS = ["relapse2", "sweep_iv", "sweep_noniv", "rob", "safety", "methods_refs"]
LOG_COLS = ["query_id", "date", "verb", "corpus", "query", "purpose", "n_results", "result_urls", "candidates"]


def read(p: Path) -> list[dict]:
    with open(p, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(p: Path, header: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    p.write_text(buf.getvalue(), encoding="utf-8")


def split_urls(s: str) -> list[str]:
    out: list[str] = []
    for p in s.split(";"):
        p = p.strip()
        if not p:
            continue
        if p.startswith("http") or not out:
            out.append(p)
        else:  # a URL that itself contains ';' (mmj.eg.net, e-tjp.org)
            out[-1] += ";" + p
    return out


(OUT / "search").mkdir(exist_ok=True)
session1 = read(PRE / "screening.csv")
screening = read(OUT / "screening.csv")
pages = collections.defaultdict(set)  # study -> every page any screener looked at
for f in [PRE / "screening.csv"] + [STG / g / "screening.csv" for g in GROUPS]:
    for r in read(f):
        pages[r["study_id"]].update(split_urls(r["pages_looked_at"]))

queries, hits = [], []
log_ids, per_helper_ids = set(), {}
n_results_logged = n_results_true = 0
all_urls: set[str] = set()
unattributed = 0
for g in GROUPS:
    ids_g = set()
    for r in read(STG / g / "search_log.csv"):
        assert list(r) == LOG_COLS, g
        urls = split_urls(r["result_urls"])
        cands = [c for c in r["candidates"].split(";") if c.strip()]
        ids_g.update(cands)
        n_results_logged += int(r["n_results"])
        n_results_true += len(urls)
        all_urls.update(urls)
        queries.append({"helper": g, **r, "n_urls_parsed": str(len(urls))})
        attributed = set()
        for rank, u in enumerate(urls, 1):
            here = [c for c in cands if u in pages[c]]
            attributed.update(here)
            hits.append({"helper": g, "query_id": r["query_id"], "rank": str(rank), "url": u, "candidates": ";".join(here)})
        unattributed += len(set(cands) - attributed)
    per_helper_ids[g] = ids_g
    log_ids |= ids_g

# the first session's screening list: a targeted, not logged, search
s1_ids = [r["study_id"] for r in session1]
s1_pages: list[str] = []
for r in session1:
    for u in split_urls(r["pages_looked_at"]):
        if u not in s1_pages:
            s1_pages.append(u)
queries.append({"helper": "session1", "query_id": "session1-list", "date": "", "verb": "targeted_not_logged",
                "corpus": "pages", "query": "session-1 list: the first session's targeted hand search (queries not logged);"
                " its 83 screened records (pre-session-2 screening.csv)", "purpose": "session1_list",
                "n_results": str(len(s1_pages)), "result_urls": ";".join(s1_pages), "candidates": ";".join(s1_ids),
                "n_urls_parsed": str(len(s1_pages))})
for rank, u in enumerate(s1_pages, 1):
    here = [r["study_id"] for r in session1 if u in split_urls(r["pages_looked_at"])]
    hits.append({"helper": "session1", "query_id": "session1-list", "rank": str(rank), "url": u, "candidates": ";".join(here)})

write(OUT / "search" / "queries.csv", ["helper", *LOG_COLS, "n_urls_parsed"], queries)
write(OUT / "search" / "hits.csv", ["helper", "query_id", "rank", "url", "candidates"], hits)

# ------------------------------------------------------------------------------------------------
# exclusion reason categories (primary reason; keyword rules, then the hand overrides below)
src = (OUT / "extraction_log" / "merge_session2.py").read_text()
i = src.index("SAME_STUDY = {")
SAME = eval(src[i + len("SAME_STUDY = "): src.index("}\n", i) + 1])  # noqa: S307 (our own literal)
LABELS = {
    "A": "not a primary trial: review, meta-analysis, pooled / post hoc / secondary analysis, commentary",
    "B": "overlapping sample or secondary report / protocol / thesis of a screened trial",
    "C": "same study screened under a second id (duplicate record)",
    "D": "not randomised / uncontrolled (open-label, case series, retrospective, observational), no usable durability numbers",
    "E": "out of scope: population (PTSD, OCD, pain, cancer, non-depressed perioperative prevention) or ketamine as ECT anaesthesia",
    "F": "registry record, protocol or ongoing study without results",
    "G": "no readable / usable numbers on the stored pages (p-values only, no denominators, results cut off, not stored)",
    "H": "eligible randomised trial flagged by a helper but not extracted (no design/N or outcome rows read)",
    "I": "identity not verifiable (first author/year not read, or article not in the store)",
}
OVERRIDE = {
    "alshirawi2017": "D", "chaudhary2022": "D", "falkesk0000": "D", "salvadore2009": "D", "salvadore2010": "D",
    "salvadore2012": "D", "vaketamine2024": "D", "janik2025": "G", "chen2019b": "G", "elhamrawy2020": "G",
    "aanhetrot2010": "B", "domanyinterim0000": "B", "krystalcross0000": "I", "unidentified2024": "I",
    "chen2023": "I", "nimhcrossmdd2019": "I", "nimhextresp2017": "I",
    "sumner2020": "H", "karmadep2022": "H", "li2016": "H", "deakin2016": "H",
}
RULES = [
    ("E", r"ptsd|\(ocd\)|not depression \(ocd\)|chronic-pain|cancer|ect anaesth|ect anesth|anaesthesia adjunct|"
          r"ect anaesthetic|as an ect|prevention|non-depressed|anaesthesia setting|ect responders, not ketamine"),
    ("B", r"overlap|secondary report|same sample|reanalysis|protocol of |subset of|registry copies|same participants|"
          r"substudy|secondary moderator analysis of|report of the murrough|post hoc analysis of included trials"),
    ("A", r"meta-analys|review|pooled|post hoc|secondary analysis|commentary|survey|guideline|not a trial|synthesis"),
    ("F", r"registry|protocol|ongoing|recruiting|design paper|design/feasibility|feasibility|terminated"),
    ("D", r"open-label|not randomi|case series|case report|retrospective|observational|uncontrolled|single-arm|"
          r"naturalistic|chart review|cross-sectional|no control|series"),
]
cat_rows = []
for r in screening:
    if r["decision"] != "excluded":
        continue
    sid = r["study_id"]
    if sid in SAME:
        c = "C"
    elif sid in OVERRIDE:
        c = OVERRIDE[sid]
    else:
        c = next((k for k, pat in RULES if re.search(pat, r["reason"], re.I)), "G")
    cat_rows.append({"study_id": sid, "category": c, "category_label": LABELS[c]})
write(OUT / "search" / "exclusion_categories.csv", ["study_id", "category", "category_label"], cat_rows)

# ------------------------------------------------------------------------------------------------
studies = read(OUT / "studies.csv")
relapse = read(OUT / "relapse.csv")
identified = sum(len(v) for v in per_helper_ids.values()) + len(s1_ids)
union = log_ids | set(s1_ids)
assert union == {r["study_id"] for r in screening}
print("logged queries:", len(queries) - 1, {g: sum(q["helper"] == g for q in queries) for g in GROUPS})
print("results returned: logged n_results sum", n_results_logged, "| parsed URLs", n_results_true,
      "| unique URLs", len(all_urls))
print("candidate ids per helper log:", {g: len(v) for g, v in per_helper_ids.items()}, "sum", sum(map(len, per_helper_ids.values())))
print("unique ids in logs", len(log_ids), "| session-1 list", len(s1_ids), "| ids in both", len(log_ids & set(s1_ids)))
print("identifications (per-helper unique ids + session-1):", identified, "| duplicates removed:", identified - len(union),
      "| screened (unique ids):", len(union))
print("two-step: (logs unique + session-1) =", len(log_ids) + len(s1_ids), "-> duplicates", len(log_ids) + len(s1_ids) - len(union))
inc = [r for r in screening if r["decision"] == "included"]
print("included", len(inc), "excluded", len(screening) - len(inc), "studies.csv", len(studies))
print("exclusion categories:", sorted(collections.Counter(r["category"] for r in cat_rows).items()))
rel_ids = {r["study_id"] for r in relapse}
rand = [s for s in studies if s["randomized"] == "true"]
single = [s for s in studies if s["design"] == "single_arm"]
print("randomised", len(rand), "| single-arm", len(single), "| other non-randomised",
      len([s for s in studies if s["randomized"] != "true" and s["design"] != "single_arm"]))
print("relapse studies", len(rel_ids), "randomised", sorted(s["study_id"] for s in rand if s["study_id"] in rel_ids),
      "single-arm", sorted(s["study_id"] for s in single if s["study_id"] in rel_ids))
print("query x candidate pairs not attributable to one URL:", unattributed)
print("hits rows", len(hits))
