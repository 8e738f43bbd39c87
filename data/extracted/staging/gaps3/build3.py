import csv,collections
M='/work/main/data/extracted/'
studies={r['study_id']:r for r in csv.DictReader(open(M+'studies.csv'))}
mscr={}
for r in csv.DictReader(open(M+'screening.csv')): mscr.setdefault(r['study_id'],r)
log=list(csv.DictReader(open('search_log.csv')))
pages=collections.defaultdict(list)
# map candidate -> urls in rows where it is a candidate, filtered by keyword match where possible
exec(open('urlmap.py').read())
for r in log:
    urls=[u for u in r['result_urls'].split(';') if u]
    for c in [x for x in r['candidates'].split(';') if x]:
        keys=[k for k,v in urlmap.items() if v==c]
        sel=[u for u in urls if any(k in u for k in keys)] or []
        for u in sel:
            if u not in pages[c]: pages[c].append(u)
new={
 'chenhbm0000':('Chen MH et al., Human Brain Mapping: low-dose ketamine PET PFC/amygdala, 48 TRD, 0.5/0.2 mg/kg/saline (year not read)','iv','excluded','overlapping sample with su2017 (same Taipei three-arm programme); imaging outcomes only; first author read, year not read (placeholder id)','su2017'),
 'taipeidlpfc2023':('Taipei DLPFC VBM/PET-MRI sub-study, J Affect Disord 2023;335:105-110, 48 TRD+SI, ketamine 0.5 vs midazolam 0.045 mg/kg','iv','excluded','overlapping sample with su2023 (same Taipei ketamine-vs-midazolam TRD+SI design); imaging outcomes; first author not read (descriptive id)','su2023'),
 'sahib2020':('Sahib 2020 Transl Psychiatry (UCLA, serial ketamine fMRI, 47 TRD)','iv','excluded','not randomized (open-label serial infusions with healthy controls); imaging outcome',''),
 'federptsdrep0000':("'Feder #1' repeated ketamine vs midazolam in PTSD (IPD table row, n=30; year not read)",'iv','excluded','PTSD, not depression; IPD review-table row only',''),
 'rybakowski2013':('Rybakowski 2013 open-label ketamine in TR bipolar depression (n=25; review-table row)','iv','excluded','open-label single-arm bipolar study seen only as a review-table row (PMC8299822 T1); outside gaps3 scope (no controlled 24-h data); flag for a single-arm sweep',''),
 'permodaosip2014':('Permoda-Osip 2014 open-label ketamine in TR bipolar depression (n=42; review-table row)','iv','excluded','open-label single-arm; review-table row only (HDRS 22.6 to 15.6 at 24 h printed there); outside gaps3 scope; flag for a single-arm sweep',''),
 'zheng2020':('Zheng 2020 open-label 6 ketamine infusions in TR bipolar depression (n=19; review-table row)','iv','excluded','open-label single-arm, review-table row only; outside gaps3 scope',''),
 'haile2013':('Haile 2013/2014 IJNP plasma BDNF and ketamine response (22 TRD from the Murrough 2013 trial)','iv','excluded','biomarker sub-study of murrough2013 (overlapping sample); no new efficacy numbers','murrough2013'),
 'deepp2023':('DEEPP study protocol (JMIR Res Protoc 2023): open-label ketamine in TR bipolar depression with SI','iv','excluded','protocol of a pilot open-label trial; no results',''),
}
inc_reason={
 'grunebaum2017':'already included; added rows: outcomes_binary 4 (24-h response 2/7 vs 1/9, remission 1/7 vs 1/9, from Cochrane CD011611 SoF 2 + meddatax arm sizes) and arms_updates.csv (n 7/9, proposed update); depression means at 24 h not found',
 'su2017':'already included; nothing new found (24-h arm-level HAMD/response not on any stored page reached: Cochrane tblf-0059 lists outcomes only; nature.com page opening only); timing of existing rows checked: consistent',
 'fava2020':'already included; nothing new found (ct.gov results page returns only its opening; PMC6447473 abstract only; per-arm day-1 HAM-D-6 means/response not readable)',
 'singh2016b':'already included; nothing new found (no primary page, registry NCT01640080 not stored; review tables give design only)',
 'shiroma2020':'already included; nothing new found (nature.com page returns Introduction/Methods opening only; Cochrane tblf-0054 says authors supplied data but prints none)',
 'sos2013':'already included; nothing new found (pdffox full-text copy of Sos et al. 2013 returns only its title block; review tables give design only)',
 'lai2014':'already included; nothing new found (no primary page in the store; 2 queries)',
 'su2023':'already included; nothing new; timing of existing rows flagged (timing_proposals.csv: 7 rows 24 h too late under the Day 1 = infusion-day reading)',
 'ochsross2020':'already included; nothing new in the outcome tables; timing: Day 1 = first dose printed (meddatax NCT02422186) -> 7 day-28 rows 672 -> 648 (timing_proposals.csv); n randomized 138 printed (studies.csv n not read before)',
 'takahashi2021':'already included; nothing new; Table 3 re-read (sign of MMRM differences consistent with contrasts rows); 11 day-28 rows probably 648 h (timing_proposals.csv), dosing days not read',
}
S=[]
allc=sorted({x for r in log for x in r['candidates'].split(';') if x})
for c in allc:
    pl=';'.join(pages.get(c,[]))[:3000]
    if c in studies:
        S.append(dict(study_id=c,label=studies[c]['label'],route=studies[c]['route'],pages_looked_at=pl,decision='included',
                      reason=inc_reason.get(c,'already included; nothing new found (page seen only in passing while searching for the gaps3 targets)'),overlaps_with=''))
    elif c in new:
        lab,route,dec,reason,ov=new[c]
        S.append(dict(study_id=c,label=lab,route=route,pages_looked_at=pl,decision=dec,reason=reason,overlaps_with=ov))
    elif c in mscr:
        m=mscr[c]
        S.append(dict(study_id=c,label=m['label'],route=m['route'],pages_looked_at=pl or m['pages_looked_at'].split(';')[0],decision='excluded',
                      reason='already screened in the project as excluded ('+m['reason'][:120].replace('\n',' ')+'); nothing new seen',overlaps_with=m['overlaps_with']))
    else:
        raise SystemExit('no screening entry for '+c)
h=next(csv.reader(open(M+'screening.csv')))
w=csv.DictWriter(open('screening.csv','w',newline=''),fieldnames=h); w.writeheader(); w.writerows(S)
print(len(S)); print(collections.Counter(s['decision'] for s in S))
for s in S:
    if not s['pages_looked_at']: print('no pages',s['study_id'])
