"""Session-2 merge: staging/<group>/ tables -> the contract tables in data/extracted/.

Run once, from the repository root, on the pre-merge tables (copied to PRE before the first run):
    python3 data/extracted/extraction_log/merge_session2.py /tmp/pre_session2

It reads the pre-merge tables from PRE (argument) and the helpers' staging folders, and writes the
merged tables into data/extracted/. Existing rows are kept byte-identical unless a rule below changes
them; every change is listed in extraction_log/merge_session2.md and README.md ("Session 2").
Only Python's csv module is used. No number is computed here except arithmetic checks (asserts).
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from csvio import read, write  # noqa: E402  (the same functions this script was run with)

OUT = Path(__file__).resolve().parents[1]  # data/extracted
STG = OUT / "staging"
PRE = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pre_session2")
GROUPS = ["relapse2", "sweep_iv", "sweep_noniv", "rob", "safety", "methods_refs"]
ID_RE = re.compile(r"^[a-z]+[0-9]{4}[a-z]?$")
LOG: list[str] = []  # human-readable change log


def sort_rows(rows: list[dict], header: list[str]) -> list[dict]:
    return sorted(rows, key=lambda r: (r[header[0]], r[header[1]]))  # stable: existing order kept


def stg(group: str, table: str) -> list[dict]:
    p = STG / group / f"{table}.csv"
    return read(p)[1] if p.exists() else []


def one(rows: list[dict], **kw) -> dict:
    hit = [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
    assert len(hit) == 1, (kw, len(hit))
    return hit[0]


TIMING_NOTE = "; computed: Day N = (N-1)x24 h after the first dose (Janssen: Day 1 = first dosing day), was {old} h"


def recode(r: dict, new: str, table: str) -> None:
    old = r["time_h"]
    r["time_h"] = new
    r["derivation"] = r["derivation"] + TIMING_NOTE.format(old=old)
    arm = r.get("arm_id") or f"{r.get('treatment_arm')} vs {r.get('control_arm')}"
    LOG.append(f"recode {table}: {r['study_id']} {arm} {r.get('outcome', r.get('measure', ''))} time_h {old} -> {new}")


# ------------------------------------------------------------------------------------------------
# new studies (task 1, 2): nimhextresp2017 is a descriptive id (first author not read) -> screening only
NEW_STUDY_SOURCES = {"relapse2": None, "sweep_iv": None, "sweep_noniv": None}
NOT_MERGED_IDS = {"nimhextresp2017": "first author/year not read (descriptive id, first author not visible)"}

h_st, studies = read(PRE / "studies.csv")
n_before = {}
n_before["studies"] = len(studies)
known = {r["study_id"] for r in studies}
new_studies = []
for g in NEW_STUDY_SOURCES:
    for r in stg(g, "studies"):
        sid = r["study_id"]
        if sid in NOT_MERGED_IDS:
            LOG.append(f"not merged: studies {sid} ({NOT_MERGED_IDS[sid]})")
            continue
        assert ID_RE.match(sid) and not sid.endswith("0000") and sid not in known, sid
        new_studies.append(r)
        known.add(sid)
        LOG.append(f"add studies: {sid} (from {g})")
# jelovac2025: n randomised 65 (sweep_iv, plus.mcmaster.ca primary abstract copy)
jel = one(studies, study_id="jelovac2025")
assert jel["n_randomized"] == ""
jel["n_randomized"] = "65"
jel["notes"] += (
    " Session 2 (sweep_iv): n_randomized 65 read on https://plus.mcmaster.ca/helsebiblioteket/Home/Article/117971"
    " (copy of the primary abstract): 'Of 65 randomized participants ... 62 were included in the final analysis'."
)
LOG.append("update studies: jelovac2025 n_randomized '' -> 65 (notes say where it was read)")
studies = sort_rows(studies + new_studies, h_st)
write(OUT / "studies.csv", h_st, studies)
STUDY_IDS = {r["study_id"] for r in studies}

# ------------------------------------------------------------------------------------------------
# arms
h_ar, arms = read(PRE / "arms.csv")
n_before["arms"] = len(arms)
armkeys = {(r["study_id"], r["arm_id"]) for r in arms}
for g in ["relapse2", "sweep_iv", "sweep_noniv", "safety"]:
    for r in stg(g, "arms"):
        if r["study_id"] in NOT_MERGED_IDS:
            continue
        k = (r["study_id"], r["arm_id"])
        assert k not in armkeys, k
        assert r["study_id"] in STUDY_IDS, k
        arms.append(r)
        armkeys.add(k)
        LOG.append(f"add arms: {k[0]} {k[1]} (from {g})")
arms = sort_rows(arms, h_ar)
write(OUT / "arms.csv", h_ar, arms)

# ------------------------------------------------------------------------------------------------
# outcomes_binary
h_ob, ob = read(PRE / "outcomes_binary.csv")
n_before["outcomes_binary"] = len(ob)
# task 3: daly2018 day-8 (192 -> 168), glue2024 open-label day 8 (192 -> 168)
d18 = [r for r in ob if r["study_id"] == "daly2018" and r["time_h"] == "192"]
assert len(d18) == 8
for r in d18:
    recode(r, "168", "outcomes_binary")
recode(one(ob, study_id="glue2024", arm_id="ket_120mg_ol", outcome="response", time_h="192"), "168", "outcomes_binary")
# task 2: zarate2006 12/17 without time -> replaced by the dated 24-h row (methods_refs)
z06 = one(ob, study_id="zarate2006", arm_id="ket_0.5", outcome="response", time_h="")
assert (z06["events"], z06["total"]) == ("12", "17")
ob.remove(z06)
LOG.append("delete outcomes_binary: zarate2006 ket_0.5 response 12/17 time_h '' (PMC4714563 Table 1) -> replaced by the 24-h row")

TRANSFORM_NOTE = ("; the denominators are day-28 observed cases (completers), not the randomised/ITT N:"
                  " a completer analysis")
new_ob = []
for g in ["relapse2", "sweep_iv", "sweep_noniv", "methods_refs"]:
    for r in stg(g, "outcomes_binary"):
        if r["study_id"] in NOT_MERGED_IDS:
            LOG.append(f"not merged: outcomes_binary {r['study_id']} {r['arm_id']} {r['events']}/{r['total']}"
                       f" ({NOT_MERGED_IDS[r['study_id']]})")
            continue
        r = dict(r)
        if r["study_id"] in ("fedgchin2019", "popova2019", "ochsross2020"):
            if "{" in r["derivation"]:  # helper's build.py left an unformatted template in 4 ochsross2020 rows
                pct = re.search(r"from_percent\+imputed: ([0-9.]+)% printed", r["derivation"]).group(1)
                k, n = int(r["events"]), int(r["total"])
                assert round(float(pct) / 100 * n) == k
                filled = f"round({float(pct) / 100:.3f}*{n})={k}, {k}/{n}={100 * k / n:.2f}%"
                r["derivation"] = r["derivation"].replace("round({p/100:.3f}*{n})={k}, {k}/{n}={pct(k,n)}%", filled)
                assert "{" not in r["derivation"]
                LOG.append(f"fill template text in derivation: outcomes_binary ochsross2020 {r['arm_id']} {r['outcome']}"
                           f" -> '{filled}' (arithmetic check of the row's own numbers)")
            r["derivation"] += TRANSFORM_NOTE
        new_ob.append(r)
        LOG.append(f"add outcomes_binary: {r['study_id']} {r['arm_id']} {r['outcome']} t={r['time_h']}"
                   f" {r['events']}/{r['total']} (from {g})")
        if r["study_id"] == "zarate2006" and r["arm_id"] == "ket_0.5" and r["time_h"] == "24":
            r["derivation"] += ("; replaces the session-1 row without a time point (same 12/17, read on"
                                " PMC4714563 Table 1: 'Zarate et al., 2006 ... 17 Crossover HAM-D 71%')")
        # task 3: helper's own day-28 rows -> 648 h where the page rule is confirmed (TRANSFORM-1/2)
        if r["study_id"] in ("fedgchin2019", "popova2019") and r["time_h"] == "672":
            recode(r, "648", "outcomes_binary")
ob = sort_rows(ob + new_ob, h_ob)
write(OUT / "outcomes_binary.csv", h_ob, ob)

# ------------------------------------------------------------------------------------------------
# outcomes_continuous (staging 'adjusted' column is empty in every new row: not added to the file)
h_oc, oc = read(PRE / "outcomes_continuous.csv")
n_before["outcomes_continuous"] = len(oc)
d18c = [r for r in oc if r["study_id"] == "daly2018" and r["time_h"] == "192"]
assert len(d18c) == 4
for r in d18c:
    recode(r, "168", "outcomes_continuous")
for g in ["relapse2", "sweep_iv", "sweep_noniv", "methods_refs"]:
    for r in stg(g, "outcomes_continuous"):
        assert not r.get("adjusted"), r
        r = {k: v for k, v in r.items() if k != "adjusted"}
        oc.append(r)
        LOG.append(f"add outcomes_continuous: {r['study_id']} {r['arm_id']} t={r['time_h']} {r['measure']} {r['mean']} (from {g})")
oc = sort_rows(oc, h_oc)
write(OUT / "outcomes_continuous.csv", h_oc, oc)

# ------------------------------------------------------------------------------------------------
# contrasts
h_co, co = read(PRE / "contrasts.csv")
n_before["contrasts"] = len(co)
recode(one(co, study_id="canuso2018", outcome="depression", time_h="600"), "576", "contrasts")
recode(one(co, study_id="popova2019", outcome="depression", time_h="672"), "648", "contrasts")
mur_old = one(co, study_id="murrough2013", outcome="suicidal_ideation", effect="log_or")
not_merged_contrasts = []
for g in ["relapse2", "sweep_iv", "sweep_noniv", "methods_refs"]:
    for r in stg(g, "contrasts"):
        r = dict(r)
        r.setdefault("measure", "")
        r.setdefault("paired", "")
        if g == "methods_refs" and r["study_id"] == "lapidus2014":
            not_merged_contrasts.append(("lapidus2014", "duplicate of the existing 24-h md row (same estimate/CI); only adds SE 1.731"))
            LOG.append("not merged: contrasts lapidus2014 md 7.6 (methods_refs duplicate of contrasts.csv row 27)")
            continue
        if g == "methods_refs" and r["study_id"] == "zarate2012":
            # no SE, no CI, no n: the loader rejects a contrast without se or both CI limits -> reference value
            not_merged_contrasts.append(("zarate2012", "smd 0.70 at day 1 has no SE/CI/n -> reference_values"))
            LOG.append("moved: contrasts zarate2012 smd 0.70 day 1 (methods_refs) -> reference_values"
                       " zarate2012_smd_day1_journalwatch (no SE/CI: loader requires one)")
            ZARATE2012 = r
            continue
        if r["study_id"] == "dwyer2021":
            # derivation: 'within-person crossover difference (paired, df=15)'; the MD equals the
            # difference of the printed 24-h endpoint means (24.13 - 15.44 = 8.69)
            assert "paired" in r["derivation"]
            assert abs((24.13 - 15.44) - float(r["estimate"])) < 1e-9
            r["paired"] = "true"
            r["measure"] = "endpoint"
            LOG.append("set contrasts dwyer2021 md 8.69: paired=true (derivation: within-person, df=15),"
                       " measure=endpoint (= 24.13 - 15.44, the printed 24-h endpoint means); adjustment unadjusted as staged")
        if r["study_id"] == "murrough2013":
            i = co.index(mur_old)
            co[i] = r
            LOG.append("replace contrasts: murrough2013 SI log_or 1.280513 (SE 0.552044, n 47/25; PMC4851268 T2)"
                       " -> 1.274376 (SE 0.611519, n 36/21; Price 2014 abstract)")
            continue
        if r["study_id"] == "fedgchin2019" and r["time_h"] == "672":
            recode(r, "648", "contrasts")
        co.append(r)
        LOG.append(f"add contrasts: {r['study_id']} {r['treatment_arm']} vs {r['control_arm']} {r['outcome']}"
                   f" t={r['time_h']} {r['effect']} {r['estimate']} (from {g})")
co = sort_rows(co, h_co)
write(OUT / "contrasts.csv", h_co, co)

# ------------------------------------------------------------------------------------------------
# relapse: relapse2 supersedes every row of the 7 studies (all 12 current rows), adds 7 studies
h_re_old, re_old = read(PRE / "relapse.csv")
n_before["relapse"] = len(re_old)
superseded = {"daly2019", "ekstrand2022", "murrough2013b", "rasmussen2013", "salloum2020", "shiroma2014", "wilkinson2017"}
assert {r["study_id"] for r in re_old} == superseded
h_re, rel = read(STG / "relapse2" / "relapse.csv")
assert all(r["induction"] in ("single", "course") for r in rel)
rel = sort_rows(rel, h_re)
write(OUT / "relapse.csv", h_re, rel)
LOG.append(f"replace relapse.csv: the 12 rows of {sorted(superseded)} -> relapse2's {len(rel)} rows"
           f" ({len({r['study_id'] for r in rel})} studies; header gains induction, responder_definition,"
           " mean_days_to_relapse, mean_days_sd)")
for g in ["sweep_noniv"]:
    assert not stg(g, "relapse")

# ------------------------------------------------------------------------------------------------
# adverse_events (new table): safety's 85 rows (relapse2 and sweep_noniv files are header-only)
h_ae, ae = read(STG / "safety" / "adverse_events.csv")
for g in ["relapse2", "sweep_noniv"]:
    assert not stg(g, "adverse_events")
for r in ae:
    assert (r["study_id"], r["arm_id"]) in armkeys, r
ae = sort_rows(ae, h_ae)
write(OUT / "adverse_events.csv", h_ae, ae)
LOG.append(f"new table adverse_events.csv: {len(ae)} rows from safety")

# ------------------------------------------------------------------------------------------------
# reference_values: append (existing order kept; the file is not sorted)
h_rv, rv = read(PRE / "reference_values.csv")
n_before["reference_values"] = len(rv)
quantities = {r["quantity"] for r in rv}
skipped_rv = []
add_rv = []
for g in ["methods_refs", "relapse2", "safety", "sweep_noniv"]:
    rows = stg(g, "reference_values")
    if g == "methods_refs":
        z = dict(ZARATE2012)
        rows.append({
            "quantity": "zarate2012_smd_day1_journalwatch", "value": z["estimate"], "ci_low": "", "ci_high": "",
            "scale": "smd",
            "description": ("Zarate 2012 (bipolar, IV ketamine 0.5 mg/kg vs saline, crossover, 15 randomized, 11 completers):"
                            " drug-difference effect size 1 day after the infusion as summarised by Journal Watch (secondary);"
                            " positive = ketamine better; within-person crossover estimate pooling both periods (paired); no"
                            " CI, SE or n printed, so it cannot enter contrasts.csv (the loader needs se or a CI). Session 2"
                            " (methods_refs) staged it as a contrast row ket_0.5 vs sal, depression, 24 h, scale madrs (assumed)."),
            "source_url": z["source_url"], "locator": z["locator"], "evidence": z["evidence"], "derivation": z["derivation"],
        })
    for r in rows:
        try:
            float(r["value"])
        except ValueError:
            skipped_rv.append((g, r["quantity"], r["value"]))
            LOG.append(f"not merged: reference_values {r['quantity']} value '{r['value']}' is not a number ({g})")
            continue
        q = r["quantity"]
        if q in quantities:
            q2 = f"{q}_{g}"
            assert q2 not in quantities
            LOG.append(f"rename reference_values quantity {q} -> {q2} (clash)")
            r = dict(r, quantity=q2)
        quantities.add(r["quantity"])
        add_rv.append(r)
        LOG.append(f"add reference_values: {r['quantity']} = {r['value']} (from {g})")
write(OUT / "reference_values.csv", h_rv, rv + add_rv)

# ------------------------------------------------------------------------------------------------
# screening: one row per study_id over session 1 + every helper
h_sc, sc_old = read(PRE / "screening.csv")
n_before["screening"] = len(sc_old)


def split_urls(s: str) -> list[str]:
    """';'-separated URLs; a piece that does not start with http belongs to the previous URL
    (two stored URLs contain ';' themselves)."""
    out: list[str] = []
    for p in s.split(";"):
        p = p.strip()
        if not p:
            continue
        if p.startswith("http") or not out:
            out.append(p)
        else:
            out[-1] += ";" + p
    return out


# same study screened under two ids (shared trial-specific page; judged by hand from labels/pages)
SAME_STUDY = {
    "ajpadolescent2021": "dwyer2021", "adolescentketmdz0000": "dwyer2021", "adolescentivesk0000": "zhou2024",
    "taipeisi2023": "su2023", "arketaminepilot0000": "arketpilot0000", "benefitrisk2020": "eskbenefitrisk2020",
    "erketamine0000": "erketamine2023", "erketamine2024": "erketamine2023", "esklongae0000": "sustainae0000",
    "mecpopenlabel2024": "mecp2024", "nimhhdrs0000": "nimhhdrs2015", "ottawaongoing0000": "ottawaketmdz2016",
    "simeta2023": "siketma2023", "ketectma2025": "jcpectmeta2025", "olderadultsprotocol2019": "latelifeprot2019",
    "nimhmddhc0000": "nimhcrossmdd2019", "pmcketresp0000": "unidentified2024", "pmcxoverresp0000": "unidentified2024",
    "ipjretro2022": "chaudhary2022", "nmdaajpmeta2015": "newport2015", "canketect2020": "canbind2020",
    "cincinnatiin0000": "ednasalsi2018", "imcrisisplan0000": "edkmcrp2023",
    "nimhpooledsideeffects0000": "nimhmediators0000", "garciaromeu0000": "eskdissociation0000",
    "ketweeklynct2011": "ketdoseregistry2011", "olderadultsiv0000": "oughli2023", "feder2015": "feder2014",
}

entries = collections.OrderedDict()  # sid -> list of (source, row)
for r in sc_old:
    entries.setdefault(r["study_id"], []).append(("session1", r))
for g in GROUPS:
    for r in stg(g, "screening"):
        entries.setdefault(r["study_id"], []).append((g, r))
for a, b in SAME_STUDY.items():
    assert a in entries and b in entries, (a, b)

# rows added (or revised) per study in session 2, by table: post-merge rows absent from the pre-merge file
ABBR = {"studies": "studies", "arms": "arms", "outcomes_binary": "binary", "outcomes_continuous": "continuous", "contrasts": "contrasts",
        "relapse": "relapse", "adverse_events": "AE", "risk_of_bias": "RoB"}
delta: dict[str, list[str]] = collections.defaultdict(list)
for t, ab in ABBR.items():
    post = [tuple(r.values()) + (r["study_id"],) for r in read(OUT / f"{t}.csv")[1]]
    pre_p = PRE / f"{t}.csv"
    pre = [tuple(r.values()) + (r["study_id"],) for r in read(pre_p)[1]] if pre_p.exists() else []
    if t in ("risk_of_bias", "relapse"):  # RoB merged earlier in session 2; relapse rows all re-extracted
        pre = [] if t == "risk_of_bias" else pre
    pre_set, post_set = set(pre), set(post)
    add = collections.Counter(r[-1] for r in post if r not in pre_set)
    rem = collections.Counter(r[-1] for r in pre if r not in post_set)
    for sid in set(add) | set(rem):
        txt = f"{ab} +{add[sid]}" + (f"/-{rem[sid]}" if rem[sid] else "")
        delta[sid].append(txt)


def short(t: str, n: int) -> str:
    t = t.strip()
    return t if len(t) <= n else t[: max(n - 1, 1)].rstrip() + "…"


def mechanical(t: str) -> bool:
    low = t.lower()
    return low.startswith("already included") or (
        low.startswith(("already screened", "already excluded")) and ("nothing new" in low or len(t) < 100))


def build_reason(sid: str, items, included: bool) -> str:
    s1 = [r["reason"] for src, r in items if src == "session1"]
    parts, seen_again = [], []
    for src, r in items:
        if src == "session1":
            continue
        t = r["reason"].strip()
        if mechanical(t):
            seen_again.append(src)
            continue
        if t not in [p for _, p in parts]:
            parts.append((src, t))
    head = []
    if not included and (sid.endswith("0000") or sid in NOT_MERGED_IDS):
        head.append(NOT_MERGED_IDS.get(sid, "first author/year not read (placeholder id)"))
    if sid in SAME_STUDY:
        head.append(f"same study as {SAME_STUDY[sid]} (screened under two ids; shared page)")
    head += s1
    tail = []
    if included and delta.get(sid):
        tail.append("session 2 rows: " + ", ".join(sorted(delta[sid])))
    if seen_again:
        tail.append("also screened by: " + ", ".join(seen_again))
    fixed = len(" | ".join(head + tail))
    each = max(70, (300 - fixed) // max(1, len(parts)) - 3) if parts else 0
    body = [f"{src}: {short(t, each)}" for src, t in parts]
    return " | ".join(head + body + tail)


sc = []
for sid, items in entries.items():
    included = sid in STUDY_IDS
    base = next((r for src, r in items if src == "session1"), items[0][1])
    label = base["label"]
    route = base["route"] or next((r["route"] for _, r in items if r["route"]), "")
    pages: list[str] = []
    for _, r in items:
        for u in split_urls(r["pages_looked_at"]):
            if u not in pages:
                pages.append(u)
    ov: list[str] = []
    for _, r in items:
        for o in [x.strip() for x in r["overlaps_with"].split(";")]:
            if o and o not in ov:
                ov.append(o)
    if sid in SAME_STUDY and SAME_STUDY[sid] not in ov:
        ov.append(SAME_STUDY[sid])
    for dup in sorted(a for a, b in SAME_STUDY.items() if b == sid):  # the canonical id names its duplicates
        if dup not in ov:
            ov.append(dup)
    srcs = [s for s, _ in items]
    if srcs == ["session1"]:  # untouched session-1 row: keep it byte-identical
        row = dict(base)
        assert (row["decision"] == "included") == included, sid
    else:
        row = {"study_id": sid, "label": label, "route": route, "pages_looked_at": ";".join(pages),
               "decision": "included" if included else "excluded", "reason": build_reason(sid, items, included),
               "overlaps_with": "; ".join(ov)}
    sc.append(row)
for sid in STUDY_IDS:
    assert sid in entries, sid
sc = sort_rows(sc, h_sc)
write(OUT / "screening.csv", h_sc, sc)

# ------------------------------------------------------------------------------------------------
(OUT / "extraction_log" / "merge_session2_changes.txt").write_text("\n".join(LOG) + "\n", encoding="utf-8")
after = {"studies": len(studies), "arms": len(arms), "outcomes_binary": len(ob), "outcomes_continuous": len(oc),
         "contrasts": len(co), "relapse": len(rel), "screening": len(sc), "reference_values": len(rv) + len(add_rv),
         "adverse_events": len(ae)}
for k in after:
    print(f"{k}: {n_before.get(k, 0)} -> {after[k]}")
print("skipped reference values:", skipped_rv)
print("contrasts not merged:", not_merged_contrasts)
