import csv
M='/work/main/data/extracted'; D='/work/staging3/newtrials3'
S={r['study_id']:r for r in csv.DictReader(open(f'{M}/studies.csv'))}
SC={r['study_id']:r for r in csv.DictReader(open(f'{M}/screening.csv'))}
cands={}
for r in csv.DictReader(open(f'{D}/search_log.csv')):
    urls=r['result_urls'].split(';')
    for x in r['candidates'].split(';'):
        if x: cands.setdefault(x,set())
pages={
'sumner2020':['https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0060','https://open-foundation.org/ketamine-enhances-visual-sensory-evoked-potential-long-term-potentiation-in-patients-with-major-depressive-disorder','https://ouci.dntb.gov.ua/en/works/7nyxada9','https://moreblossom.com/papers/ketamine-improves-short-term-plasticity-in-depression-by-enhancing-sensitivity-t','https://blossomanalysis.com/papers/ketamine-improves-short-term-plasticity-in-depression-by-enhancing-sensitivity-to-prediction-errors/'],
'karmadep2022':['https://hrbopenresearch.org/articles/3-90','https://open-foundation.org/tag/d-mcloughlin/','https://moreblossom.com/papers/ketamine-as-an-adjunctive-therapy-for-major-depression-a-randomised-controlled-p','https://www.clincosm.com/trial/major-depressive-episode-unipolar-depression-bipolar-dublin-ketamine','https://clinicaltrials.gov/ct2/show/record/NCT03256162','https://www.clinicaltrialexchange.com/clinical-trials/Ketamine-as-an-Adjunctive-Therapy-for-Major-Depression/NCT03256162','https://meddatax.com/clinical-trials/NCT03256162','https://blossomanalysis.com/trials/ketamine-as-an-adjunctive-therapy-for-major-depression/','https://www.tcd.ie/medicine/psychiatry/research/depression/karma-dep/'],
'downey2016':['https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0015','https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0015/?term=%22Cochrane+Database+Syst+Rev%22%5Bjour%5D','https://pmc.ncbi.nlm.nih.gov/articles/PMC10430179/table/tbl1','https://searchworks.staging.jioinstitute.edu.in/?f%5Beds_publisher_facet%5D%5B%5D=elsevier+b.v.&q=%22lanicemine%22&search_field=descriptor','https://pmc.ncbi.nlm.nih.gov/articles/PMC9763119/table/Tab1','http://www.globalauthorid.com/WebPortal/ArticleView?wd=FA07B4B65EA61D192822AC26FC040F25F6412D63B1F8EFE5F0BD14915BD7305A','https://trial.medpath.com/clinical-trial/98085cf1449f7ca8/nct01046630-pharmacomri-effects-azd6765-depressive-disorder','http://research.bmh.manchester.ac.uk/centrum/research/npu/mooddisorders/research/?ID=2181&Control=TagList1','https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0070'],
'deakin2016':['https://pmc.ncbi.nlm.nih.gov/articles/PMC9763119/table/Tab1','http://preview-www.nature.com/articles/s41380-022-01757-7/tables/1','https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0015'],
'li2016':['https://pmc.ncbi.nlm.nih.gov/articles/PMC7704936/table/T1','https://pmc.ncbi.nlm.nih.gov/articles/PMC10430179/table/tbl1','https://insights.ovid.com/hbmap/900000000/01445432-900000000-99366','https://moreblossom.com/papers/the-effects-of-low-dose-ketamine-on-the-prefrontal-cortex-and-amygdala-in-treatm','https://peeref.com/zh/works/2318307','https://omicsdi.org/dataset/biostudies-literature/S-EPMC6867460','https://discovery.researcher.life/article/effects-of-adjunctive-ketamine-intravenous-infusion-in-taiwanese-patients-with-treatmentresistant-depression-antidepression-antisuicidality-bdnf-val66met-and-brain-imaging/d3605a4c13ee37bea37a29a13778c0f9','http://journal.sop.org.tw/pastIssues/info.asp?/2279.html'],
'abdallah2017':['https://www.nature.com/articles/npp2016186'],
'abdallah2018':['http://www.globalauthorid.com/WebPortal/ArticleView?wd=FA07B4B65EA61D192822AC26FC040F25F6412D63B1F8EFE5F0BD14915BD7305A'],
'evans2018':['https://pmc.ncbi.nlm.nih.gov/articles/PMC6093808'],
'feder2021':['https://pmc.ncbi.nlm.nih.gov/articles/PMC9763119/table/Tab1'],
'neurocogsingle0000':['https://www.moreblossom.com/trials/repeated-neurocognitive-measurements-in-depressed'],
'nugent2016':['https://pmc.ncbi.nlm.nih.gov/articles/PMC4992587'],
'nugent2019':['https://pubmed.ncbi.nlm.nih.gov/30551012/?dopt=Abstract'],
'nugent2020':['http://doi.org/10.3389/fpsyt.2020.00519'],
'sahib2020':['https://pmc.ncbi.nlm.nih.gov/articles/PMC7393172'],
'yalebloch0000':['https://ignite-sd.com/clinical/show_json/75642'],
}
labels={
'abdallah2017':'Abdallah 2017 Neuropsychopharmacology, ketamine and global brain connectivity in MDD (nature npp2016186)',
'abdallah2018':'Abdallah 2018, ketamine but not lanicemine increases prefrontal global connectivity (Chronic Stress; 56 randomised)',
'evans2018':'Evans 2018 Biol Psychiatry, default mode connectivity after ketamine (NIMH crossover, 33 MDD + 25 HC)',
'feder2021':'Feder 2021 (PTSD, six infusions vs midazolam; "Feder #1" row of PMC9763119 Tab1)',
'neurocogsingle0000':'Single-group neurocognitive study with an open-label ketamine subsample (n=15; moreblossom trial page)',
'nugent2016':'Nugent 2016 Psychiatry Res, MEG connectivity pre/post open-label ketamine (N=13)',
'nugent2019':'Nugent 2019 Psychiatry Res Neuroimaging, MEG gamma replication (NCT00088699, 31 depressed)',
'nugent2020':'Nugent 2020 Front Psychiatry, MEG connectivity, NIMH ketamine/placebo crossover (27 MDD + 24 HV)',
'sahib2020':'Sahib 2020 Transl Psychiatry, fMRI inhibitory control after single and serial open-label ketamine (47 TRD)',
'yalebloch0000':'Yale (Bloch) ketamine registry results JSON, 3 participants enrolled before the pandemic',
'downey2016':'Downey 2016, ketamine vs lanicemine vs saline phMRI in MDD (60 randomised; IPD-table label "Deakin, Abdallah")',
}
reasons={
'sumner2020':('included','NEW study rows: studies 1, arms 2 (ket_0.44, act), outcomes_binary 1 (ketamine-session response 21/30 within 1 day, from 70%), outcomes_continuous 2 (baseline MADRS, Cochrane), risk_of_bias 8 (7 cochrane_cd011612 + functional_unblinding project). No placebo-session outcome, no post-dose MADRS means, no AE numbers on the pages read',''),
'karmadep2022':('included','NEW study rows: studies 1 (design, N 25), arms 2 (13 ketamine / 12 midazolam), risk_of_bias 8 (project). No outcome numbers readable (abstract prints only "no major differences in HRSD-24 scores"; ct.gov results page not stored). Id kept: first author not verified (moreblossom lists Foley M, Gallagher B, Gusciute G, apparently alphabetical)','jelovac2025'),
'downey2016':('included','NEW (renamed from deakin2016): studies 1, arms 2 (ket_0.5 21, sal 19; lanicemine 20 not entered), outcomes_continuous 2 (baseline BDI, Cochrane), risk_of_bias 8 (7 cochrane_cd011612 + functional_unblinding project). No post-infusion depression numbers on the pages read (abstract: no significant antidepressant effect vs saline)','deakin2016'),
'deakin2016':('excluded','renamed: same trial as downey2016 (IPD table PMC9763119 Tab1 row "Deakin, Abdallah [53, 54] | UK | MDD outpatients (n = 37) | Single infusion 0.5 mg/kg | Saline; Lanicemine"; Cochrane tblf-0015 "Downey 2016" = the UK lanicemine/ketamine/saline trial, first author Downey, Deakin last author). All rows are under downey2016','downey2016'),
'li2016':('excluded','duplicate population: Li CT ... Su TP, Hum Brain Mapp 2016 (48 TRD randomised equally to ketamine 0.5 mg/kg, 0.2 mg/kg or saline, 40-min infusion, 18F-FDG-PET; Taipei Veterans General Hospital funding) is the PET report of the Taipei AKSTP-TRD trial already included as su2017 (the authors\' chapter: the one RCT 2012-2015, 71 subjects, 0.5/0.2 mg/kg/placebo, with 18F-FDG-PET at 40 min post-infusion). Overlap is inferred (same group, design, doses, period) - no page states it in one sentence. PMC7704936 Table 1 lists "Li 2016 ... 64" (48 on the trial abstract; the eClinicalMedicine table PMC10430179 lists 32 ketamine / 16 saline). Its abstract prints PET statistics only, no depression numbers','su2017'),
'abdallah2017':('excluded','mechanistic imaging report (global brain connectivity 24 h after ketamine); only the introduction was readable - design/N not read; no depression numbers',''),
'abdallah2018':('excluded','secondary report of downey2016 (Deakin group, Manchester; 56 randomised: saline 18, ketamine 19, lanicemine 19); imaging outcome only','downey2016'),
'evans2018':('excluded','secondary imaging analysis of the NIMH ketamine/placebo crossover programme (overlaps the NIMH crossovers in the project); no new depression numbers',''),
'feder2021':('excluded','PTSD population (not depression)',''),
'neurocogsingle0000':('excluded','single-group basic-science study; open-label ketamine subsample; no outcome numbers',''),
'nugent2016':('excluded','open-label ketamine MEG study (N=13), not randomised; imaging outcomes only',''),
'nugent2019':('excluded','secondary MEG analysis of NIMH trial NCT00088699 (overlapping NIMH crossover samples); no depression numbers',''),
'nugent2020':('excluded','secondary MEG analysis of the NIMH ketamine/placebo crossover (overlapping sample); no depression numbers',''),
'sahib2020':('excluded','open-label serial ketamine imaging study, not randomised; no durability data',''),
'yalebloch0000':('excluded','registry results record with 3 participants (stopped at the pandemic); data presented overall; no usable comparison',''),
}
rows=[]
for k in sorted(cands):
    if k in reasons:
        dec,rea,ov=reasons[k]
        lab=labels.get(k) or (SC[k]['label'] if k in SC else (S[k]['label'] if k in S else k))
        route='iv'
    elif k in S:
        dec,rea,ov='included','already included; nothing new found (surfaced in this session\'s searches; not a target)',''
        lab=S[k]['label']; route=S[k]['route']
    elif k in SC:
        dec,rea,ov='excluded','already screened by the project (excluded); nothing new',SC[k]['overlaps_with']
        lab=SC[k]['label']; route=SC[k]['route']
    else:
        raise SystemExit('unclassified '+k)
    rows.append(dict(study_id=k,label=lab,route=route,pages_looked_at=';'.join(pages.get(k,[])),decision=dec,reason=rea,overlaps_with=ov))
H=next(csv.reader(open(f'{M}/screening.csv')))
w=csv.DictWriter(open(f'{D}/screening.csv','w',newline=''),fieldnames=H); w.writeheader(); w.writerows(rows)
print(len(rows))
