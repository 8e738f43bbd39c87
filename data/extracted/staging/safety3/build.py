import csv
D='/work/staging3/safety3/'
M='/work/main/data/extracted/'
def hdr(f): return next(csv.reader(open(M+f)))
POSTER='https://develop-sr3snxi-tt7lcx6s5gdv4.us-4.platformsh.site/site/pcn/posters/cardiac-safety-esketamine-nasal-spray-treatment-resistant-depression-results-clinical'
POPOVA='https://melakarnets.com/proxy/index.php?q=https%3A%2F%2Fwww.scribd.com%2Fdocument%2F786233715%2FPopova-et-al-2019-TRANSFORM-2'
DALY18='http://ihr.stoynev.us/intranasal-corticosteroids-moa.html'
PLOC=("Psych Congress 2019 poster abstract 'Cardiac Safety of Esketamine Nasal Spray in TRD: Results From the Clinical Development Program' (same title as Doherty et al., CNS Drugs 2020;34:299-310, PubMed 31994024), Results - SECONDARY report of TRANSFORM-3: "
      "'an elderly study (age >=65)' = the single elderly double-blind study TRANSFORM-3 (PMC8061126 Table 1); ")
ev_mm=("The largest mean maximum SBP/DBP increases across intranasal dosing days were 13.3/8.7 mmHg for esketamine+AD and 6.1/4.9 mmHg for AD+placebo in 2 studies ... and 16.0/9.5 mmHg and 11.1/6.8 mmHg, respectively, in an elderly study (age ≥65)")
ev_mk=("percentage of patients (age 18-64) with markedly abnormal BP elevation (SBP ≥180 and/or DBP ≥110) ranged from 2.0–4.9% ... in elderly, BP elevations were higher (esketamine+AD 11.1% vs. AD+placebo 6.2%)")
AE=[]
def ae(**k):
    r={h:'' for h in hdr('adverse_events.csv')}; r.update(k); AE.append(r)
for arm,ev,val in [('esk_flex','blood_pressure_systolic',16.0),('pbo','blood_pressure_systolic',11.1),('esk_flex','blood_pressure_diastolic',9.5),('pbo','blood_pressure_diastolic',6.8)]:
    ae(study_id='ochsross2020',arm_id=arm,event=ev,measure='mean_peak',time_h='',time_anchor='first_dose',scale='mmhg',mean=val,unit='mmHg',
       source_url=POSTER,locator=PLOC+"largest per-dosing-day mean maximum post-dose increase from pre-dose over the 4-week double-blind phase (time_h empty); "+("systolic" if 'systolic' in ev else "diastolic")+", "+("esketamine + AD" if arm=='esk_flex' else "AD + placebo"),
       evidence=ev_mm,
       derivation="reported (secondary): mean maximum post-dose increase in mmHg (a maximum rise, hence mean_peak); '16.0/9.5 ... 11.1/6.8 mmHg, respectively' = esketamine+AD then AD+placebo; SD and n not printed")
for arm,k,n,p in [('esk_flex',8,72,0.111),('pbo',4,65,0.062)]:
    ae(study_id='ochsross2020',arm_id=arm,event='blood_pressure_any',measure='proportion',time_h='',time_anchor='first_dose',scale='other',events=k,total=n,unit='participants',
       source_url=POSTER,locator=PLOC+"markedly abnormal BP elevation (SBP >=180 and/or DBP >=110 mmHg) at any time in the double-blind phase (time_h empty); "+("esketamine + AD" if arm=='esk_flex' else "AD + placebo"),
       evidence=ev_mk,
       derivation=f"from_percent+imputed: round({p}*{n})={k}; {k}/{n}={100*k/n:.2f}% reproduces {p*100:.1f}%; denominator {n} = TRANSFORM-3 analysed arm size in arms.csv (72/65; PMC8061126 Table 1), safety-set N not printed on this page; measured BP threshold event, not the TEAE 'blood pressure increased'")
for arm,k,n,p in [('esk_flex',8,114,0.07),('pbo',1,109,0.009)]:
    ae(study_id='popova2019',arm_id=arm,event='dropout_adverse_event',measure='proportion',time_h='',time_anchor='first_dose',scale='other',events=k,total=n,unit='participants',
       source_url=POPOVA,locator="Popova et al. 2019 (TRANSFORM-2), Am J Psychiatry, Abstract, Results (proxy copy of the scribd PDF; two-column layout interleaved); 4-week double-blind induction phase (time_h empty); "+("esketamine + AD" if arm=='esk_flex' else "AD + placebo"),
       evidence="7% and 0.9% of patients in the respective treatment groups discontinued study drug because of an adverse event",
       derivation=f"from_percent+imputed: round({p}*{n})={k}; {k}/{n}={100*k/n:.2f}% reproduces {'7%' if k==8 else '0.9%'}; denominators 114/109 = arms.csv (TRANSFORM-2 full analysis set, PMC7894501 Table 1 footnote); safety-set N not printed here (8 and 1 also reproduce the % with 115-116/111)")
ae(study_id='daly2018',arm_id='esk_pooled',event='dropout_adverse_event',measure='proportion',time_h='',time_anchor='first_dose',scale='other',events=3,total=56,unit='participants',
   source_url=DALY18,locator="Scraped copy of the Daly et al. 2018 JAMA Psychiatry (SYNAPSE) abstract, Results (numbers in the MADRS sentence are stripped on this copy; the AE sentence is intact); double-blind phase, periods 1+2 pooled, all esketamine doses (time_h empty)",
   evidence="Three of 56 (5%) esketamine-treated participants during the double-blind phase vs none receiving placebo ... had adverse events that led to study discontinuation",
   derivation="reported: 3/56 esketamine-treated participants (28/56/84 mg pooled, both double-blind periods); pooled safety arm esk_pooled added in safety3 arms.csv")
ae(study_id='daly2018',arm_id='pbo',event='dropout_adverse_event',measure='proportion',time_h='',time_anchor='first_dose',scale='other',events=0,total=33,unit='participants',
   source_url=DALY18,locator="Scraped copy of the Daly et al. 2018 JAMA Psychiatry (SYNAPSE) abstract, Results; double-blind phase (time_h empty); placebo",
   evidence="Three of 56 (5%) esketamine-treated participants during the double-blind phase vs none receiving placebo ... had adverse events that led to study discontinuation",
   derivation="reported+imputed: 0 events ('none receiving placebo'); denominator 33 = participants randomized to placebo in period 1 (PMC5838571 Table 1, period 1 'No. 33'; period-2 placebo patients are a subset of them), not printed in this sentence")
AR=[]
def arm(**k):
    r={h:'' for h in hdr('arms.csv')}; r.update(k); AR.append(r)
arm(study_id='daly2018',arm_id='esk_pooled',role='ketamine',dose='esketamine 28, 56 or 84 mg intranasal twice weekly; double-blind periods 1 and 2 pooled (all esketamine-treated participants)',n_randomized=56,
    source_url=DALY18,locator="Scraped copy of the Daly 2018 JAMA Psychiatry abstract, Results",
    evidence="Three of 56 (5%) esketamine-treated participants during the double-blind phase",
    derivation="reported: 56 esketamine-treated in the double-blind phase = 34 randomized to esketamine in period 1 (11+11+12) + 22 placebo non-responders re-randomized to esketamine in period 2 (8+9+5; PMC5838571 Table 1 period 2 'No. 6 | 8 | 9 | 5'); pooled SAFETY arm, not a randomized arm - use only for AE rows")
RV=[]
def rv(**k):
    r={h:'' for h in hdr('reference_values.csv')}; r.update(k); RV.append(r)
for q,v,d in [('doherty2020_transform12_sbp_max_increase_esketamine_mmhg',13.3,'esketamine + AD, systolic'),('doherty2020_transform12_sbp_max_increase_placebo_mmhg',6.1,'AD + placebo, systolic'),
              ('doherty2020_transform12_dbp_max_increase_esketamine_mmhg',8.7,'esketamine + AD, diastolic'),('doherty2020_transform12_dbp_max_increase_placebo_mmhg',4.9,'AD + placebo, diastolic')]:
    rv(quantity=q,value=v,scale='mmHg',description=f"Largest mean maximum post-dose BP increase across intranasal dosing days, TRANSFORM-1 and TRANSFORM-2 POOLED (2 studies, 4 weeks, age 18-64), {d}; pooled over two trials, so not an arm-level row",
       source_url=POSTER,locator="Psych Congress 2019 poster abstract (Doherty et al. cardiac safety of esketamine), Results",evidence=ev_mm,derivation="reported")
rv(quantity='doherty2020_db_trials_bp_increased_ae_esketamine_prop',value=0.116,scale='proportion',description='Adverse events of increased BP, esketamine + AD, pooled double-blind TRD trials (5 DB trials of the development programme)',
   source_url=POSTER,locator="Psych Congress 2019 poster abstract (Doherty et al.), Results",evidence="Adverse events (AEs) of increased blood pressure (BP) occurred in 12.8% of all esketamine-treated patients (in DB trials: esketamine+AD 11.6% vs. AD+placebo 3.9%; OR 3.2 [1.9, 5.8])",derivation="reported: 11.6% -> 0.116")
rv(quantity='doherty2020_db_trials_bp_increased_ae_placebo_prop',value=0.039,scale='proportion',description='Adverse events of increased BP, AD + placebo, pooled double-blind TRD trials',
   source_url=POSTER,locator="Psych Congress 2019 poster abstract (Doherty et al.), Results",evidence="in DB trials: esketamine+AD 11.6% vs. AD+placebo 3.9%; OR 3.2 [1.9, 5.8]",derivation="reported: 3.9% -> 0.039")
rv(quantity='doherty2020_db_trials_bp_increased_ae_or',value=3.2,ci_low=1.9,ci_high=5.8,scale='or',description='Odds ratio, AE of increased BP, esketamine + AD vs AD + placebo, pooled double-blind TRD trials (>1 = more with esketamine)',
   source_url=POSTER,locator="Psych Congress 2019 poster abstract (Doherty et al.), Results",evidence="in DB trials: esketamine+AD 11.6% vs. AD+placebo 3.9%; OR 3.2 [1.9, 5.8]",derivation="reported")
JCP='https://dev.psychiatrist.com/jcp/esketamine-nasal-spray-mdd-adverse-events/'
for q,v,d in [('sustain12_week1_dissociation_ae_prop',0.167,'dissociation'),('sustain12_week1_bp_increased_ae_prop',0.043,'increased blood pressure')]:
    rv(quantity=q,value=v,scale='proportion',description=f"Incidence of spontaneously reported {d} in week 1 of open-label esketamine + new oral AD, pooled SUSTAIN-1 and SUSTAIN-2 (n = 928; post hoc); uncontrolled, pooled",
       source_url=JCP,locator="J Clin Psychiatry post hoc 'Longitudinal Course of Adverse Events With Esketamine Nasal Spray', Abstract, Results",
       evidence="Incidences of dizziness, dissociation, increased blood pressure, nausea, vertigo, and sedation were highest in week 1 of treatment (20.6%, 16.7%, 4.3%, 14.0%, 12.1%, and 3.8%, respectively)",derivation="reported: "+("16.7%" if 'dissoc' in q else "4.3%"))
PUB='https://pubmed.ncbi.nlm.nih.gov/31994024/'
for q,v,d in [('doherty2020_new_antihypertensive_no_htn_history_esketamine_prop',round(6/280,4),'esketamine/antidepressant: 6/280'),('doherty2020_new_antihypertensive_no_htn_history_placebo_prop',round(2/171,4),'antidepressant/placebo: 2/171')]:
    rv(quantity=q,value=v,scale='proportion',description=f"New antihypertensive medication initiated among patients without a history of hypertension, pooled double-blind esketamine TRD studies ({d})",
       source_url=PUB,locator="PubMed abstract 31994024 (Doherty et al., CNS Drugs 2020;34:299-310), Results",
       evidence="new antihypertensive medication was initiated by 2.1% (6/280) of patients in the esketamine/antidepressant group versus 1.2% (2/171) of patients in the antidepressant/placebo group, in the double-blinded studies",
       derivation="computed: "+d.split(': ')[1]+f" = {v}")
def w(f,rows,h):
    with open(D+f,'w',newline='') as fh:
        wr=csv.DictWriter(fh,fieldnames=h); wr.writeheader(); wr.writerows(rows)
w('adverse_events.csv',AE,hdr('adverse_events.csv'))
w('arms.csv',AR,hdr('arms.csv'))
w('reference_values.csv',RV,hdr('reference_values.csv'))
print(len(AE),len(AR),len(RV))
