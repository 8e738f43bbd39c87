import csv
S=list(csv.DictReader(open('/work/staging3/second_read_sample.csv')))
notes={
1:"SoF2 row 'respond to treatment - at 24 hours': OR 3.20 (0.23 to 45.19), 16 (1 RCT), 111 per 1,000 / 286 per 1,000 printed; meddatax 'STARTED 7 9'. 2/7=285.7->286, 1/9=111.1->111, (2/5)/(1/8)=3.20 all check. Criterion not printed (row says so); not the SSI response of the trial abstract (NNT 2.2 there vs ~5.7 implied here).",
2:"Same SoF2 row: midazolam 111 per 1,000 = 1/9; total 9 on meddatax; OR check 3.20 right.",
3:"SoF2 row 'achieve remission - at 24 hours': OR 1.33 (0.07 to 25.91), 111 / 143 per 1,000 printed; 1/7=142.9->143; (1/6)/(1/8)=1.333 right. Criterion not printed (row says so).",
4:"Same SoF2 remission row: 111 per 1,000 = 1/9, total 9 (meddatax); arithmetic right.",
5:"Poster prints '16.0/9.5 mmHg and 11.1/6.8 mmHg, respectively, in an elderly study (age >=65)'; 16.0 = SBP esketamine+AD. Treating the unnamed elderly study as TRANSFORM-3 is an inference (only elderly DB trial, PMC8061126 Tab1) - reasonable.",
6:"11.1 = SBP AD+placebo, elderly study; printed as quoted.",
7:"9.5 = DBP esketamine+AD, elderly study; printed as quoted.",
8:"6.8 = DBP AD+placebo, elderly study; printed as quoted.",
9:"'in elderly, BP elevations were higher (esketamine+AD 11.1% vs. AD+placebo 6.2%)' printed; 72 printed on PMC8061126 Tab1 and PMC7894501 Tab2; 8/72=11.11% right. CAVEAT: the page does not repeat the >=180/>=110 threshold for the elderly figure; reading it as the same 'markedly abnormal' event is an inference from the sentence before. Count is imputed.",
10:"6.2% printed; 65 printed (PMC8061126 Tab1, PMC7894501 Tab2); 4/65=6.15%->6.2% right. Same caveat as row 9 on the event definition; count imputed.",
11:"Popova abstract (proxy copy, columns interleaved) prints '7% and 0.9% of patients in the respective treatment groups discontinued study drug because of an adverse event'; n=114 printed in PMC7894501 Tab1 footnote; 8/114=7.02% right (count imputed).",
12:"0.9% printed; n=109 in PMC7894501 Tab1 footnote ('AD + placebo, n = 109'); 1/109=0.92% right (1/114 would also give 0.9%). Note PMC8061126 Tab1 prints placebo (114) for TRANSFORM 2, but its N 223 = 114+109.",
13:"'Three of 56 (5%) esketamine-treated participants during the double-blind phase vs none receiving placebo' printed. 56 also equals 34 period-1 + 22 period-2 esketamine (PMC5838571 Tab1).",
14:"'none receiving placebo' printed; 33 printed as Period 1 placebo 'No.' in PMC5838571 Tab1; period-2 placebo (6) are re-randomised period-1 placebo patients, so 33 unique placebo-exposed is right.",
15:"Cochrane tblf-0060 prints 'Blinding of outcome assessment (detection bias) All outcomes | Low risk | To maintain study blinding, the MADRS assessor was never present...'.",
16:"Poster prints 'in DB trials: esketamine+AD 11.6% vs. AD+placebo 3.9%; OR 3.2 [1.9, 5.8]'; 11.6% -> 0.116; '5 double-blind (DB), placebo-controlled and 1 open-label trial' matches the description.",
17:"JCP page prints 'Incidences of dizziness, dissociation, increased blood pressure ... highest in week 1 ... (20.6%, 16.7%, 4.3%, ...)' and n = 928; 4.3% -> 0.043. Minor: the page names the studies by NCT number only (NCT02493868, NCT02497287), and the word 'open-label' in the description is not printed there.",
18:"Cochrane tblf-0060 prints 'Random sequence generation (selection bias) | Low risk | Order counterbalanced.'",
19:"PMC10430179 Tab1 prints 'Downey et al. (2016) | Single dose Parallel | DSM-IV | 21 ketamine 20 lanicemineb | 19 | ... | Saline placebo'; 19 = control. Provenance note: '0.9% saline, 40 mL ... 60 min' is not on this page - it is printed in Cochrane tblf-0015 (checked there).",
20:"Cochrane tblf-0015 prints 'Placebo group BDI score M = 25.72 (SD = 7.67)'.",
21:"Cochrane tblf-0060 prints 'Placebo MADRS M = 30.33 (SD = 4.65)'; placebo = remifentanil active placebo per Interventions.",
22:"Open-foundation abstract prints '70% of participants experienced 50% or greater reduction ... within 1 day of receiving ketamine'; round(0.70*30)=21, 21/30=70.0% right. Denominator 30 assumed (all participants; Cochrane 'No data missing').",
23:"Open-foundation prints 'single 0.44-mg/kg intravenous dose of ketamine or active placebo (1.7 ng/mL remifentanil) in 30 patients'; Cochrane tblf-0060 prints the 0.25 mg/kg bolus + 0.25 mg/kg/hour for 45 minutes quoted in dose.",
24:"Same abstract sentence (1.7 ng/mL remifentanil, 30 patients); '9-minute infusion ... target-controlled' printed in Cochrane tblf-0060 Interventions.",
25:"Poster prints 'AD+placebo 3.9%'; -> 0.039.",
26:"PMC10430179 Tab1 prints 21 ketamine and 'IV racemic ketamine 0.5 mg/kg'. 13/21=61.9% and 11/19=57.9% (derivation) check against tblf-0015. Provenance note: 'total dose, constant IV infusion over 60 min (40 mL)' is printed in Cochrane tblf-0015, not on the cited page.",
27:"Cochrane tblf-0060 prints 'Selective reporting (reporting bias) | Unclear risk | No protocol available.'",
28:"Cochrane tblf-0015 prints 'Other bias | High risk | Potential bias due to funding by pharmaceutical company. Quote: \"This study was whol' (cut there, as the row says).",
29:"Cochrane tblf-0060 prints 'ketamine group MADRS M = 30.00 (SD = 5.21)'. Which crossover group this is is not stated (the derivation flags it).",
30:"tblf-0060 prints 'Randomised, double-blind, active placebo- controlled cross-over design', 'N: 30', the 88% debrief quote and the 'first half of the cross-over' note; ouci prints the 12 authors, '2020, Biological Psychiatry: Cognitive Neuroscience and Neuroimaging, No 1, p. 45-55'. Suggestion: PMID 31495712 / DOI 10.1016/j.bpsc.2019.07.002 are printed at http://47.251.13.51:8081/31495712 (pmid/doi left empty).",
31:"HRB abstract prints 'four-week course of either once-weekly ketamine (0.5mg/kg) or midazolam (0.045mg/kg) infusions given over 40 minutes' and 'In total, 13 were randomly assigned to the ketamine arm and 12'.",
32:"Cochrane tblf-0060 prints 'Incomplete outcome data (attrition bias) All outcomes | Low risk | No data missing.'",
}
with open('results.csv','w',newline='') as f:
    w=csv.writer(f); w.writerow(['group','file','row','study_id','verdict','note'])
    for i,s in enumerate(S,1):
        w.writerow([s['group'],s['file'],s['row'],s['study_id'],'confirmed',notes[i]])
print('ok',len(S))
