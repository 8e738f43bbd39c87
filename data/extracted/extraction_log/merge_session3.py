"""Session-3 merge: staging/{gaps3,newtrials3,safety3,second_read3}/ -> the contract tables and search/.

Run from the repository root, on the pre-merge tables copied to PRE before the first run:
    python3 data/extracted/extraction_log/merge_session3.py /tmp/pre_session3

PRE holds the pre-merge tables (*.csv) and search/ (queries.csv, hits.csv, exclusion_categories.csv).
The script always reads PRE plus the staging folders and rewrites the merged files in data/extracted/,
so running it twice gives the same files (idempotent as long as PRE is the pre-merge copy; it refuses
to run on a post-merge copy). Existing rows are kept byte-identical unless a decision below changes
them; every change is written to extraction_log/merge_session3_changes.txt and listed in
merge_session3.md and README.md section 8. Only Python's csv module is used. No number is computed
here except arithmetic checks (asserts).

Decisions applied (from the lead's brief, numbered as there):
 1. newtrials3: studies sumner2020, karmadep2022, downey2016 (old id deakin2016), their arms, outcome rows
    and all 24 risk_of_bias rows; downey2016 arm rows say that the dose wording was read on Cochrane
    CD011612 tblf-0015. li2016 excluded (duplicate population of su2017); deakin2016 kept in screening
    only as 'renamed/duplicate id of downey2016'.
 2. gaps3: the 4 grunebaum2017 outcomes_binary rows; arms_updates.csv (grunebaum2017 n 7 / 9) with the
    staged provenance; screening rows. Nothing else from gaps3.
 3. gaps3/timing_proposals.csv: every proposed time_h change (ochsross2020, takahashi2021, su2023), each
    asserted against the current row; derivation gains "; session 3: time_h <old> -> <new> (<rule, source>)".
 4. safety3: adverse_events ochsross2020 mean_peak x4 and popova2019 dropouts x2 (not: ochsross2020
    blood_pressure_any x2, daly2018 esk_pooled x2, the esk_pooled arm); its 11 reference values, with
    'open-label' taken out of the sustain12 descriptions.
 5. sumner2020 pmid/doi left empty.
 6. screening: new ids added; existing rows kept, reason extended where rows were added this session.
 7. search/: the four helpers' search logs appended to queries.csv / hits.csv (as build_search_record.py),
    exclusion categories for every newly excluded id.
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from csvio import read, split_urls, write  # noqa: E402

OUT = Path(__file__).resolve().parents[1]  # data/extracted
STG = OUT / "staging"
PRE = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pre_session3")
GROUPS = ["gaps3", "newtrials3", "safety3"]  # extraction helpers (screening + tables)
LOG_GROUPS = ["gaps3", "newtrials3", "safety3", "second_read3"]  # every helper with a search log
ID_RE = re.compile(r"^[a-z]+[0-9]{4}[a-z]?$")
LOG: list[str] = []

TABLES = ["studies", "arms", "outcomes_binary", "outcomes_continuous", "contrasts", "relapse", "risk_of_bias",
          "adverse_events", "reference_values", "screening"]  # fmt: skip
for t in TABLES:
    assert (PRE / f"{t}.csv").exists(), f"PRE copy incomplete: {PRE / t}.csv"
for f in ("queries.csv", "hits.csv", "exclusion_categories.csv"):
    assert (PRE / "search" / f).exists(), f"PRE copy incomplete: search/{f}"


def sort_rows(rows: list[dict], header: list[str]) -> list[dict]:
    return sorted(rows, key=lambda r: (r[header[0]], r[header[1]]))  # stable: existing order kept


def stg(group: str, table: str) -> tuple[list[str], list[dict]]:
    p = STG / group / f"{table}.csv"
    return read(p) if p.exists() else ([], [])


def one(rows: list[dict], **kw) -> dict:
    hit = [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
    assert len(hit) == 1, (kw, len(hit))
    return hit[0]


PROV = ("source_url", "locator", "evidence", "derivation")


def check_prov(table: str, r: dict, header: list[str]) -> None:
    for c in PROV:
        if c in header:
            assert r.get(c, "").strip(), (table, c, r)
    assert r["source_url"].startswith(("http://", "https://")), (table, r["source_url"])


ADDED: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)  # sid -> table -> n
ABBR = {"studies": "studies", "arms": "arms", "outcomes_binary": "binary", "outcomes_continuous": "continuous",
        "contrasts": "contrasts", "adverse_events": "AE", "risk_of_bias": "RoB"}  # fmt: skip
n_before: dict[str, int] = {}
n_after: dict[str, int] = {}


def add_rows(table: str, group: str, rows: list[dict], existing: list[dict], header: list[str], key: tuple) -> None:
    keys = {tuple(r[k] for k in key) for r in existing}
    for r in rows:
        check_prov(table, r, header)
        k = tuple(r[c] for c in key)
        assert k not in keys, (table, k)
        keys.add(k)
        existing.append(r)
        ADDED[r.get("study_id", "")][table] += 1
        LOG.append(f"add {table}: {' '.join(x for x in k if x)} (from {group})")


# ------------------------------------------------------------------------------------------------
# studies (decision 1, 5)
h_st, studies = read(PRE / "studies.csv")
n_before["studies"] = len(studies)
assert not {r["study_id"] for r in studies} & {"sumner2020", "karmadep2022", "downey2016"}, \
    "PRE already holds session-3 studies: PRE must be the pre-merge copy"
_, new_st = stg("newtrials3", "studies")
assert [r["study_id"] for r in new_st] == ["sumner2020", "karmadep2022", "downey2016"]
for r in new_st:
    assert ID_RE.match(r["study_id"]) and r["pmid"] == "" and r["doi"] == "", r["study_id"]  # decision 5
# labels are short names (Author Year, README section 2); the staged descriptions move to notes
SHORT_LABELS = {"downey2016": "Downey 2016", "karmadep2022": "KARMA-Dep pilot 2022"}
for r in new_st:
    if r["study_id"] in SHORT_LABELS:
        staged = r["label"]
        r["label"] = SHORT_LABELS[r["study_id"]]
        if r["study_id"] == "karmadep2022":
            r["notes"] = f'HRB Open Research 3:90; first author not verified (label in session 3: "{staged}"). ' + r["notes"]
        else:
            r["notes"] = f'Label in session 3 was "{staged}". ' + r["notes"]
        LOG.append(f"edit staged studies {r['study_id']}: label shortened to {r['label']!r}, the staged label kept in notes")
add_rows("studies", "newtrials3", new_st, studies, h_st, ("study_id",))
studies = sort_rows(studies, h_st)
write(OUT / "studies.csv", h_st, studies)
STUDY_IDS = {r["study_id"] for r in studies}
n_after["studies"] = len(studies)

# ------------------------------------------------------------------------------------------------
# arms (decision 1: newtrials3 arms, downey2016 dose provenance; decision 2: grunebaum2017 n)
h_ar, arms = read(PRE / "arms.csv")
n_before["arms"] = len(arms)
_, new_ar = stg("newtrials3", "arms")
assert len(new_ar) == 6
COCHRANE_DOWNEY = "https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0015"
DOWNEY_INTERVENTIONS = ("Participants received a constant intravenous infusion of lanicemine (100 mg total dose), ketamine"
                        " (0.5 mg/kg total dose) or placebo (0.9% saline) each made up to 40 mL volume and infused for 60"
                        " minutes")  # fmt: skip
excerpt = (STG / "newtrials3" / "excerpts" / "downey_cochrane_0015.txt").read_text(encoding="utf-8")
assert DOWNEY_INTERVENTIONS in excerpt  # the quote is verbatim in the excerpt newtrials3 saved for that page
for r in new_ar:
    if r["study_id"] != "downey2016":
        continue
    words = ("total dose", "40 mL", "60 min") if r["arm_id"] == "ket_0.5" else ("0.9% saline", "40 mL", "60 min")
    assert all(w in r["dose"] for w in words), r["dose"]
    r["locator"] += ("; dose wording (" + ", ".join(f"'{w}'" for w in words) + ") read on Cochrane CD011612"
                     " characteristics table 'Downey 2016', Interventions (tblf-0015; secondary)")
    r["derivation"] += (f"; session 3: the dose text was read on the Cochrane CD011612 'Downey 2016' table {COCHRANE_DOWNEY}"
                        f" (Interventions: \"{DOWNEY_INTERVENTIONS}\"), not on source_url, which is the page where"
                        " n_randomized was read (second reader, note 2)")
    LOG.append(f"edit staged arms downey2016 {r['arm_id']}: locator/derivation name Cochrane tblf-0015 as the page of the"
               " dose wording (second_read3 note 2)")
add_rows("arms", "newtrials3", new_ar, arms, h_ar, ("study_id", "arm_id"))
_, upd = stg("gaps3", "arms_updates")
assert [(r["study_id"], r["arm_id"], r["n_randomized"]) for r in upd] == [("grunebaum2017", "ket_0.5", "7"),
                                                                         ("grunebaum2017", "mdz", "9")]
for u in upd:
    a = one(arms, study_id=u["study_id"], arm_id=u["arm_id"])
    assert a["n_randomized"] == "" and all(a[c] == u[c] for c in ("role", "dose", "dose_mg_per_kg", "dose_mg")), a
    old = {c: a[c] for c in PROV}
    a["n_randomized"] = u["n_randomized"]
    for c in PROV:
        a[c] = u[c]
    a["derivation"] += (f"; session 3: applied to arms.csv (n_randomized '' -> {u['n_randomized']}); the row's previous"
                        f" provenance (dose and arm text): {old['source_url']} ({old['locator']}): '{old['evidence']}'")
    check_prov("arms", a, h_ar)
    LOG.append(f"update arms: grunebaum2017 {u['arm_id']} n_randomized '' -> {u['n_randomized']}; source_url/locator/"
               f"evidence/derivation from gaps3/arms_updates.csv (was {old['source_url']})")
arms = sort_rows(arms, h_ar)
write(OUT / "arms.csv", h_ar, arms)
ARMKEYS = {(r["study_id"], r["arm_id"]) for r in arms}
n_after["arms"] = len(arms)

# ------------------------------------------------------------------------------------------------
# timing (decision 3): gaps3/timing_proposals.csv, checked row by row against the pre-merge tables
RULES = {
    "ochsross2020": ("TRANSFORM-3 prints Day 1 = first dose ('Day 1, 4, 8, 11, 15, 18, 22, 25'; endpoint Day 28),"
                     " so Day N = (N-1)x24 h; printed Day labels, high confidence;"
                     " https://meddatax.com/clinical-trials/NCT02422186/results (gaps3)"),
    "takahashi2021": ("Janssen Day-1 rule: Day 1 = first dosing day, Day N = (N-1)x24 h; the trial's own day labels"
                      " (its dosing days) were not read and the Janssen programme rule was applied; 'Day 28' as printed"
                      " on https://pmc.ncbi.nlm.nih.gov/articles/PMC8547110/table/Tab3 (gaps3)"),
    "su2023": ("Taipei VGH group's table day labels: Table 1 'Day 1, 240 min' = the infusion day, so Day N = (N-1)x24 h;"
               " https://dbpia.nl.go.kr/view-large/407082910 (gaps3)"),
}
_, props = stg("gaps3", "timing_proposals")
assert len(props) == 25 and {p["study_id"] for p in props} == set(RULES)
pre_tables = {}
for f in ("outcomes_binary.csv", "outcomes_continuous.csv", "contrasts.csv"):
    pre_tables[f] = read(PRE / f)
    with open(PRE / f, newline="", encoding="utf-8") as fh:  # one record per file line: no multi-line cells
        assert len(fh.read().splitlines()) == len(pre_tables[f][1]) + 1, f
RECODED: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
for p in props:
    h, rows = pre_tables[p["file"]]
    r = rows[int(p["line"]) - 2]  # file line (header = line 1) -> data row
    arm = r.get("arm_id") or f"{r['treatment_arm']}|{r['control_arm']}"
    assert (r["study_id"], arm, r["time_h"]) == (p["study_id"], p["arm_id"], p["current_time_h"]), (p, r)
    old, new = r["time_h"], p["proposed_time_h"]
    assert float(new) == float(old) - 24, (old, new)  # every proposal moves one day earlier
    r["time_h"] = new
    r["derivation"] += f"; session 3: time_h {old} -> {new} ({RULES[p['study_id']]})"
    RECODED[p["file"]].append((r["study_id"], arm, f"{old}->{new}"))
    LOG.append(f"recode {p['file']} line {p['line']}: {r['study_id']} {arm} {r.get('outcome', '')} {r.get('measure', '')}"
               f" time_h {old} -> {new}")

# ------------------------------------------------------------------------------------------------
# outcomes_binary (decision 1: newtrials3 1 row; decision 2: gaps3 4 rows)
h_ob, ob = pre_tables["outcomes_binary.csv"]
n_before["outcomes_binary"] = len(ob)
KEY_OB = ("study_id", "arm_id", "outcome", "time_h", "time_anchor", "window", "scale", "definition")
_, x = stg("newtrials3", "outcomes_binary")
assert len(x) == 1
add_rows("outcomes_binary", "newtrials3", x, ob, h_ob, KEY_OB)
_, x = stg("gaps3", "outcomes_binary")
assert len(x) == 4 and {r["study_id"] for r in x} == {"grunebaum2017"}
add_rows("outcomes_binary", "gaps3", x, ob, h_ob, KEY_OB)
for r in ob:
    assert int(r["events"]) <= int(r["total"]) and (r["study_id"], r["arm_id"]) in ARMKEYS, r
ob = sort_rows(ob, h_ob)
write(OUT / "outcomes_binary.csv", h_ob, ob)
n_after["outcomes_binary"] = len(ob)

# outcomes_continuous (decision 1: newtrials3 4 baseline rows)
h_oc, oc = pre_tables["outcomes_continuous.csv"]
n_before["outcomes_continuous"] = len(oc)
_, x = stg("newtrials3", "outcomes_continuous")
assert len(x) == 4
add_rows("outcomes_continuous", "newtrials3", x, oc, h_oc,
         ("study_id", "arm_id", "time_h", "time_anchor", "scale", "measure"))
oc = sort_rows(oc, h_oc)
write(OUT / "outcomes_continuous.csv", h_oc, oc)
n_after["outcomes_continuous"] = len(oc)

# contrasts: only the timing recodes (no staged contrast rows)
h_co, co = pre_tables["contrasts.csv"]
n_before["contrasts"] = n_after["contrasts"] = len(co)
for g in GROUPS:
    assert not stg(g, "contrasts")[1], g
write(OUT / "contrasts.csv", h_co, co)

# relapse: nothing staged
h_re, rel = read(PRE / "relapse.csv")
n_before["relapse"] = n_after["relapse"] = len(rel)
for g in GROUPS:
    assert not stg(g, "relapse")[1], g
write(OUT / "relapse.csv", h_re, rel)

# ------------------------------------------------------------------------------------------------
# risk_of_bias (decision 1: all 24 newtrials3 rows)
h_rb, rb = read(PRE / "risk_of_bias.csv")
n_before["risk_of_bias"] = len(rb)
_, x = stg("newtrials3", "risk_of_bias")
assert len(x) == 24 and collections.Counter(r["study_id"] for r in x) == {"sumner2020": 8, "karmadep2022": 8, "downey2016": 8}
assert all(sum(r["study_id"] == s and r["domain"] == "functional_unblinding" for r in x) == 1
           for s in ("sumner2020", "karmadep2022", "downey2016"))
add_rows("risk_of_bias", "newtrials3", x, rb, h_rb, ("study_id", "domain", "assessor"))
rb = sort_rows(rb, h_rb)
write(OUT / "risk_of_bias.csv", h_rb, rb)
n_after["risk_of_bias"] = len(rb)

# ------------------------------------------------------------------------------------------------
# adverse_events (decision 4)
h_ae, ae = read(PRE / "adverse_events.csv")
n_before["adverse_events"] = len(ae)
_, x = stg("safety3", "adverse_events")
take, skip = [], []
for r in x:
    if r["study_id"] == "ochsross2020" and r["measure"] == "mean_peak":
        take.append(r)
    elif r["study_id"] == "popova2019" and r["event"] == "dropout_adverse_event":
        take.append(r)
    else:
        skip.append(r)
assert len(take) == 6 and [(r["study_id"], r["arm_id"], r["event"]) for r in skip] == [
    ("ochsross2020", "esk_flex", "blood_pressure_any"), ("ochsross2020", "pbo", "blood_pressure_any"),
    ("daly2018", "esk_pooled", "dropout_adverse_event"), ("daly2018", "pbo", "dropout_adverse_event")]
for r in take:
    assert (r["study_id"], r["arm_id"]) in ARMKEYS, r
add_rows("adverse_events", "safety3", take, ae, h_ae, ("study_id", "arm_id", "event", "measure", "time_h", "time_anchor", "scale"))
for r in skip:
    why = ("threshold definition inferred for the elderly figure, counts back-calculated from % (second reader note 1)"
           if r["study_id"] == "ochsross2020" else
           "pooled arm esk_pooled mixes both double-blind periods and all doses against one period's placebo")
    LOG.append(f"not merged: adverse_events {r['study_id']} {r['arm_id']} {r['event']} {r['events']}/{r['total']} ({why})")
_, x = stg("safety3", "arms")
assert [(r["study_id"], r["arm_id"]) for r in x] == [("daly2018", "esk_pooled")]
LOG.append("not merged: arms daly2018 esk_pooled (n 56; pooled safety arm, only its two AE rows used it)")
ae = sort_rows(ae, h_ae)
write(OUT / "adverse_events.csv", h_ae, ae)
n_after["adverse_events"] = len(ae)

# ------------------------------------------------------------------------------------------------
# reference_values (decision 4): append safety3's 11 rows; 'open-label' is not printed on the sustain12 page
h_rv, rv = read(PRE / "reference_values.csv")
n_before["reference_values"] = len(rv)
quantities = {r["quantity"] for r in rv}
_, x = stg("safety3", "reference_values")
assert len(x) == 11
for r in x:
    r = dict(r)
    assert r["quantity"] not in quantities, r["quantity"]
    float(r["value"])
    check_prov("reference_values", r, h_rv)
    if r["quantity"].startswith("sustain12"):
        assert r["description"].count("open-label ") == 1
        r["description"] = r["description"].replace("open-label ", "")
        LOG.append(f"edit staged reference_values {r['quantity']}: 'open-label' removed from description (not printed on"
                   " the page; second reader note 3)")
    quantities.add(r["quantity"])
    rv.append(r)
    LOG.append(f"add reference_values: {r['quantity']} = {r['value']} (from safety3)")
write(OUT / "reference_values.csv", h_rv, rv)
n_after["reference_values"] = len(rv)

# ------------------------------------------------------------------------------------------------
# screening (decision 6, and 1 for sumner2020 / karmadep2022 / deakin2016 / li2016)
h_sc, sc_pre = read(PRE / "screening.csv")
n_before["screening"] = len(sc_pre)
pre_ids = {r["study_id"] for r in sc_pre}
staged = collections.OrderedDict()  # sid -> [(group, row)]
for g in GROUPS:
    for r in stg(g, "screening")[1]:
        staged.setdefault(r["study_id"], []).append((g, r))

# same study as an id already screened (judged by hand from labels, registry ids and shared pages)
SAME_STUDY = {
    "chenhbm0000": ("li2016", "shared page: the moreblossom record of the Hum Brain Mapp low-dose ketamine PFC/amygdala"
                              " PET paper (48 TRD) that newtrials3 read as Li 2016"),
    "federptsdrep0000": ("feder2021", "shared page: the 'Feder #1' row of PMC9763119 Tab1"),
    "yalebloch0000": ("sadkids2019", "shared page: ignite-sd show_json/75642, NCT03889756, 3 enrolled"),
    "yaleadolescent2023": ("sadkids2019", "same registry record NCT03889756 (ignite-sd show_json/75642), 3 enrolled"),
    "ottawaketamine0000": ("ottawaketmdz2016", "shared page: Cochrane CD011612 ongoing-study table tblf-0101"),
    "grunebaum2024": ("dissocmdz2024", "shared page: pesquisa.bvsalud mdl-38573154 (2024 CADSS secondary analysis of grunebaum2018)"),
    "esketaminemono0000": ("janik2025", "same registry id NCT04599855 (esketamine monotherapy RCT)"),
    "wajs2020": ("sustaintwo2020", "same registry id NCT02497287 (SUSTAIN-2)"),
}
# primary exclusion category of every newly excluded id (existing categories A-I; see merge_session3.md)
CATEGORY = {
    "chenhbm0000": "C", "federptsdrep0000": "C", "yalebloch0000": "C", "yaleadolescent2023": "C",
    "ottawaketamine0000": "C", "grunebaum2024": "C", "esketaminemono0000": "C", "wajs2020": "C",
    "deakin2016": "C",
    "li2016": "B", "taipeidlpfc2023": "B", "abdallah2018": "B", "evans2018": "B", "nugent2019": "B", "nugent2020": "B",
    "permodaosip2014": "D", "rybakowski2013": "D", "sahib2020": "D", "zheng2020": "D", "neurocogsingle0000": "D",
    "nugent2016": "D", "delsant2020": "D", "esketaminelte0000": "D", "realesk2023": "D",
    "deepp2023": "F", "ketaminereg0000": "F",
    "feder2021": "E", "esketaminehealthy2018": "E",
    "doherty2020": "A", "chen2022": "A",
    "abdallah2017": "G",
}


def added_text(sid: str) -> str:
    c = ADDED.get(sid, {})
    parts = [f"{ABBR[t]} +{c[t]}" for t in ABBR if c.get(t)]
    if sid == "grunebaum2017":
        parts.append("arms n_randomized filled x2")
    return ", ".join(parts)


def union_pages(*lists: str) -> str:
    out: list[str] = []
    for s in lists:
        for u in split_urls(s):
            if u not in out:
                out.append(u)
    return ";".join(out)


def union_ov(*lists: str) -> str:
    out: list[str] = []
    for s in lists:
        for o in [x.strip() for x in s.split(";")]:
            if o and o not in out:
                out.append(o)
    return "; ".join(out)


def srcs_with(sid: str, word: str) -> list[str]:
    return [g for g, r in staged.get(sid, []) if word in r["reason"].lower()]


sc = []
changed_sc = []
for r in sc_pre:
    sid = r["study_id"]
    r = dict(r)
    if sid in ("sumner2020", "karmadep2022"):  # decision 1: extracted by newtrials3 -> included
        g, s = next((g, s) for g, s in staged[sid] if g == "newtrials3")
        assert r["decision"] == "excluded" and s["decision"] == "included"
        r["decision"] = "included"
        r["reason"] = (f"included in session 3 (newtrials3 extracted it); session 3 added: {added_text(sid)}"
                       f" | newtrials3: {s['reason']} | before session 3 (excluded, flagged as eligible, not extracted): {r['reason']}")
        r["pages_looked_at"] = union_pages(r["pages_looked_at"], *[s2["pages_looked_at"] for _, s2 in staged[sid]])
        r["overlaps_with"] = union_ov(r["overlaps_with"], *[s2["overlaps_with"] for _, s2 in staged[sid]])
    elif sid == "deakin2016":  # decision 1: renamed to downey2016; kept only as the excluded old id
        s = next(s for g, s in staged[sid] if g == "newtrials3")
        assert s["decision"] == "excluded" and s["reason"].startswith("renamed: same trial as downey2016")
        r["reason"] = (f"renamed/duplicate id of downey2016 (session 3, newtrials3): {s['reason'][len('renamed: '):]}"
                       f" | before session 3: {r['reason']}")
        r["pages_looked_at"] = union_pages(r["pages_looked_at"], *[s2["pages_looked_at"] for _, s2 in staged[sid]])
        r["overlaps_with"] = union_ov(r["overlaps_with"], "downey2016")
    elif sid == "li2016":  # decision 1: excluded, duplicate population of su2017
        s = next(s for g, s in staged[sid] if g == "newtrials3")
        assert s["decision"] == "excluded" and s["reason"].startswith("duplicate population")
        r["reason"] = f"{s['reason']} (session 3, newtrials3) | before session 3: {r['reason']}"
        r["pages_looked_at"] = union_pages(r["pages_looked_at"], *[s2["pages_looked_at"] for _, s2 in staged[sid]])
        r["overlaps_with"] = union_ov(r["overlaps_with"], s["overlaps_with"], "chenhbm0000")
    elif r["decision"] == "included" and added_text(sid):  # decision 6: rows added this session
        assert srcs_with(sid, "added"), sid  # a staged row says rows were added
        r["reason"] = f"{r['reason']} | session 3 added: {added_text(sid)} ({', '.join(srcs_with(sid, 'added'))})"
    sc.append(r)

pre_by_id = {r["study_id"]: r for r in sc_pre}
for r in sc:
    if r != pre_by_id[r["study_id"]]:
        changed_sc.append(r["study_id"])
        LOG.append(f"update screening: {r['study_id']} (decision {pre_by_id[r['study_id']]['decision']} -> {r['decision']};"
                   " reason extended)")
# staged rows that say rows were added, for ids where nothing was merged (daly2018: AE rows not entered)
for sid, items in staged.items():
    if sid in pre_ids and srcs_with(sid, "added") and sid not in changed_sc:
        LOG.append(f"screening {sid} kept unchanged: staged row says rows were added, but none was merged")

new_sc = []
for sid, items in staged.items():
    if sid in pre_ids:
        continue
    assert ID_RE.match(sid), sid
    decisions = {r["decision"] for _, r in items}
    assert len(decisions) == 1, (sid, decisions)
    dec = decisions.pop()
    assert (dec == "included") == (sid in STUDY_IDS), sid
    head = []
    if dec == "excluded" and sid.endswith("0000") and "placeholder" not in " ".join(r["reason"] for _, r in items):
        head.append("first author/year not read (placeholder id)")
    if sid in SAME_STUDY:
        head.append(f"same study as {SAME_STUDY[sid][0]} (screened under two ids; {SAME_STUDY[sid][1]})")
    if len(items) == 1:
        body = [items[0][1]["reason"]]
    else:
        body = [f"{g}: {r['reason']}" for g, r in items]
    row = {"study_id": sid, "label": items[0][1]["label"], "route": items[0][1]["route"] or next((r["route"] for _, r in items if r["route"]), ""),
           "pages_looked_at": union_pages(*[r["pages_looked_at"] for _, r in items]), "decision": dec,
           "reason": " | ".join(head + body),
           "overlaps_with": union_ov(*[r["overlaps_with"] for _, r in items], SAME_STUDY.get(sid, ("",))[0])}
    if sid == "feder2021":
        row["overlaps_with"] = union_ov(row["overlaps_with"], "federptsdrep0000")
    new_sc.append(row)
    LOG.append(f"add screening: {sid} {dec} (from {', '.join(g for g, _ in items)})")
sc = sort_rows(sc + new_sc, h_sc)
for sid in STUDY_IDS:  # the loader's cross-check, and decision 6
    assert next(r for r in sc if r["study_id"] == sid)["decision"] == "included", sid
assert {r["study_id"] for r in sc if r["decision"] == "included"} == STUDY_IDS
assert "deakin2016" not in STUDY_IDS and "li2016" not in STUDY_IDS
write(OUT / "screening.csv", h_sc, sc)
n_after["screening"] = len(sc)

# ------------------------------------------------------------------------------------------------
# search/ (decision 7): queries.csv, hits.csv, exclusion_categories.csv
LOG_COLS = ["query_id", "date", "verb", "corpus", "query", "purpose", "n_results", "result_urls", "candidates"]
h_q, queries = read(PRE / "search" / "queries.csv")
h_h, hits = read(PRE / "search" / "hits.csv")
h_x, cats = read(PRE / "search" / "exclusion_categories.csv")
n_before.update({"search/queries": len(queries), "search/hits": len(hits), "search/exclusion_categories": len(cats)})
pages = collections.defaultdict(set)  # study -> every page any screener looked at (merged file + staged files)
for f in [OUT / "screening.csv"] + sorted(STG.glob("*/screening.csv")):
    for r in read(f)[1]:
        pages[r["study_id"]].update(split_urls(r["pages_looked_at"]))
screened_ids = {r["study_id"] for r in sc}
unattributed = 0
stats = {}
for g in LOG_GROUPS:
    _, log = read(STG / g / "search_log.csv")
    n_logged = n_parsed = 0
    ids_g: set[str] = set()
    for r in log:
        prefix = "second_read-" if g == "second_read3" else f"{g}-"  # the second reader logged 'second_read-NNN'
        assert list(r) == LOG_COLS and r["query_id"].startswith(prefix), (g, r["query_id"])
        urls = split_urls(r["result_urls"])
        cands = [c for c in r["candidates"].split(";") if c.strip()]
        assert set(cands) <= screened_ids, (g, set(cands) - screened_ids)
        ids_g.update(cands)
        n_logged += int(r["n_results"])
        n_parsed += len(urls)
        queries.append({"helper": g, **r, "n_urls_parsed": str(len(urls))})
        attributed = set()
        for rank, u in enumerate(urls, 1):
            here = [c for c in cands if u in pages[c]]
            attributed.update(here)
            hits.append({"helper": g, "query_id": r["query_id"], "rank": str(rank), "url": u, "candidates": ";".join(here)})
        unattributed += len(set(cands) - attributed)
    stats[g] = (len(log), n_logged, n_parsed, len(ids_g))
    LOG.append(f"add search/queries.csv: {len(log)} rows of staging/{g}/search_log.csv (helper {g})")
write(OUT / "search" / "queries.csv", h_q, queries)
write(OUT / "search" / "hits.csv", h_h, hits)

LABELS = {r["category"]: r["category_label"] for r in cats}
assert set(LABELS) == set("ABCDEFGHI")
excluded_now = {r["study_id"] for r in sc if r["decision"] == "excluded"}
excluded_pre = {r["study_id"] for r in sc_pre if r["decision"] == "excluded"}
cat_ids = {r["study_id"] for r in cats}
out_cats = []
for r in cats:
    sid = r["study_id"]
    if sid not in excluded_now:  # now included (sumner2020, karmadep2022)
        assert sid in ("sumner2020", "karmadep2022") and r["category"] == "H", sid
        LOG.append(f"remove search/exclusion_categories: {sid} (H; included in session 3)")
        continue
    if sid in ("li2016", "deakin2016"):
        assert r["category"] == "H"
        r = {"study_id": sid, "category": CATEGORY[sid], "category_label": LABELS[CATEGORY[sid]]}
        LOG.append(f"update search/exclusion_categories: {sid} H -> {CATEGORY[sid]}")
    out_cats.append(r)
newly_excluded = sorted(excluded_now - excluded_pre)
assert set(newly_excluded) == set(CATEGORY) - {"li2016", "deakin2016"}, set(newly_excluded) ^ (set(CATEGORY) - {"li2016", "deakin2016"})
for sid in newly_excluded:
    out_cats.append({"study_id": sid, "category": CATEGORY[sid], "category_label": LABELS[CATEGORY[sid]]})
    LOG.append(f"add search/exclusion_categories: {sid} {CATEGORY[sid]}")
out_cats = sorted(out_cats, key=lambda r: r["study_id"])
write(OUT / "search" / "exclusion_categories.csv", h_x, out_cats)
n_after.update({"search/queries": len(queries), "search/hits": len(hits), "search/exclusion_categories": len(out_cats)})

# ------------------------------------------------------------------------------------------------
(OUT / "extraction_log" / "merge_session3_changes.txt").write_text("\n".join(LOG) + "\n", encoding="utf-8")
for k in n_after:
    print(f"{k}: {n_before[k]} -> {n_after[k]}")
print("recoded time_h:", {f: len(v) for f, v in RECODED.items()})
print("screening rows changed:", changed_sc)
print("search logs (calls, n_results logged, URLs parsed, candidate ids):", stats)
print("query x candidate pairs not attributable to one URL (session-3 logs):", unattributed)
print("unique URLs in hits.csv:", len({h['url'] for h in hits}))
print("exclusion categories:", sorted(collections.Counter(r["category"] for r in out_cats).items()),
      "| excluded ids without a category:", sorted(excluded_now - {r['study_id'] for r in out_cats}))
