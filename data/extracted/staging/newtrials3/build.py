import csv, os
D='/work/staging3/newtrials3'
M='/work/main/data/extracted'
def hdr(f): return next(csv.reader(open(f'{M}/{f}.csv')))
def write(name, rows):
    H=hdr(name)
    with open(f'{D}/{name}.csv','w',newline='') as fh:
        w=csv.DictWriter(fh,fieldnames=H); w.writeheader()
        for r in rows:
            extra=set(r)-set(H)
            assert not extra,(name,extra)
            w.writerow({k:r.get(k,'') for k in H})

C0060='https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0060'
C0015='https://pmc.ncbi.nlm.nih.gov/articles/PMC8434915/table/CD011612-tblf-0015'
HRB='https://hrbopenresearch.org/articles/3-90'
OFS='https://open-foundation.org/ketamine-enhances-visual-sensory-evoked-potential-long-term-potentiation-in-patients-with-major-depressive-disorder'
CLC='https://www.clincosm.com/trial/major-depressive-episode-unipolar-depression-bipolar-dublin-ketamine'
CTE='https://www.clinicaltrialexchange.com/clinical-trials/Ketamine-as-an-Adjunctive-Therapy-for-Major-Depression/NCT03256162'
CTG='https://clinicaltrials.gov/ct2/show/record/NCT03256162'
E10430179='https://pmc.ncbi.nlm.nih.gov/articles/PMC10430179/table/tbl1'
SWK='https://searchworks.staging.jioinstitute.edu.in/?f%5Beds_publisher_facet%5D%5B%5D=elsevier+b.v.&q=%22lanicemine%22&search_field=descriptor'
OUCI='https://ouci.dntb.gov.ua/en/works/7nyxada9'

studies=[
dict(study_id='sumner2020',label='Sumner 2020',year='2020',
 citation='Sumner RL, McMillan R, Spriggs MJ, Campbell D, Malpas G, Maxwell E, Deng C, Hay J, Ponton R, Kirk IJ, Sundram F, Muthukumaraswamy SD. Ketamine Enhances Visual Sensory Evoked Potential Long-term Potentiation in Patients With Major Depressive Disorder. Biological Psychiatry: Cognitive Neuroscience and Neuroimaging 2020;(1):45-55 (bibliographic fields read on '+OUCI+'). Companion report of the same 30 patients: Ketamine improves short-term plasticity in depression by enhancing sensitivity to prediction errors, European Neuropsychopharmacology (moreblossom summary).',
 pmid='',doi='',trial_name='',design='crossover',randomized='true',
 blinding='double-blind, active placebo (remifentanil); 88% of participants identified their ketamine session at debrief (Cochrane quote)',
 population='mdd',drug='racemic',route='iv',dosing='single',control='active',n_randomized='30',
 source_url=C0060,locator="Cochrane CD011612 characteristics table 'Sumner 2020', Methods and Participants (secondary)",
 evidence='Methods | Randomised, double‐blind, active placebo‐ controlled cross‐over design. | | Participants | Diagnosis: participants who met DSM‐IV criteria for major depressive disorder. N: 30',
 notes='Crossover (order counterbalanced/randomised); every participant received ketamine 0.44 mg/kg IV (0.25 mg/kg bolus + 0.25 mg/kg/h for 45 min) and the active placebo remifentanil (target 1.7 ng/mL, 9-min infusion) - control coded active (opioid active placebo; not midazolam). Mechanistic EEG trial (visual LTP / roving MMN 3-4 h post-dose). Cochrane: "Authors kindly provided additional data for the first half of the cross-over" - the first-period data are not printed on any page read. Only a pooled ketamine-session response share (70% within 1 day) is printed; no placebo-session response, no MADRS means after dosing, no SD of differences. Companion EurNPP paper (rMMN) = same sample, do not add as a separate study. Previously flagged by methods_refs and rob2 (session 2).'),
dict(study_id='karmadep2022',label='KARMA-Dep pilot (HRB Open Research 3:90; first author not verified)',year='2022',
 citation='Ketamine as an adjunctive therapy for major depression - a randomised controlled pragmatic pilot trial (Karma-Dep Trial). HRB Open Research, article 3-90, version 2 published 27 Jan 2022 (version 1 date not read). Authors listed on a moreblossom summary: Foley M, Gallagher B, Gusciute G (order and completeness not verified; list looks alphabetical). Sponsor/PI: St Patrick\'s Hospital, Ireland / Prof Declan McLoughlin (ClinicalTrials.gov record).',
 pmid='',doi='',trial_name='KARMA-Dep (NCT03256162; EudraCT 2016-004764-18)',design='parallel',randomized='true',
 blinding='participant- and assessor-blind (registry: masking quadruple); midazolam active placebo; blinding integrity not read',
 population='mixed',drug='racemic',route='iv',dosing='repeated',control='midazolam',n_randomized='25',
 source_url=HRB,locator='HRB Open Research abstract, Methods and Results',
 evidence='Consented participants were randomly allocated to a four-week course of either once-weekly ketamine (0.5mg/kg) or midazolam (0.045mg/kg) infusions given over 40 minutes ... with 25 (20%) providing consent. In total, 13 were randomly assigned to the ketamine arm and 12',
 notes='Pilot/feasibility RCT in inpatients, adjunct to usual inpatient care; 4 once-weekly infusions; 12-week follow-up. Population mixed: registry inclusion "major depressive disorder (MDD) and bipolar affective disorder (current episode depression)" ('+CTE+'). Primary clinical outcome HRSD-24; registry definitions: response >=60% decrease and HRSD-24 <=16, remission >=60% decrease and <=10, relapse criterion cut ('+CTG+'). Abstract: "There were no major differences in HRSD-24 scores between the two groups. The infusions were generally safe and well tolerated" (open-foundation copy) - no numbers readable. ClinicalTrials.gov results posted 18 Jan 2020 but the results page is not stored. Predecessor of jelovac2025 (KARMA-Dep 2, NCT04939649) - different participants (2017-2018 vs 2021-2024). Id kept as karmadep2022: first author could not be read with certainty; if the lead confirms the first author (e.g. Foley), rename to <author>2020/2022.'),
dict(study_id='downey2016',label='Downey 2016 (ketamine vs lanicemine vs saline phMRI; IPD-table label "Deakin, Abdallah")',year='2016',
 citation='Downey D, Dutta A, McKie S, Dawson GR, Dourish CT, Craig K, Smith MA, McCarthy DJ, Harmer CJ, Goodwin GM, Williams S, Deakin JFW. Comparing the actions of lanicemine and ketamine in depression: key role of the anterior cingulate. Elsevier journal (title/authors read on '+SWK+'; journal/volume not printed there; year from Cochrane study id "Downey 2016").',
 pmid='',doi='',trial_name='',design='parallel',randomized='true',blinding='double-blind (pharmacy-coded infusions); blinding integrity not read',
 population='mdd',drug='racemic',route='iv',dosing='single',control='saline',n_randomized='60',
 source_url=C0015,locator="Cochrane CD011612 characteristics table 'Downey 2016', Methods and Participants (secondary)",
 evidence='Methods | Randomised, double‐blind, placebo‐controlled, parallel‐groups trial | | Participants | Diagnosis: DSM‐IV major depressive episode N: 60 (randomised)',
 notes='RENAMED from deakin2016 (session-2 provisional id from the IPD table PMC9763119 Tab1 row "Deakin, Abdallah ... UK | MDD outpatients (n = 37) ... Saline; Lanicemine"): same trial - the only UK ketamine/lanicemine/saline single-infusion trial in MDD; first author Downey (Deakin last author). Three arms: ketamine 0.5 mg/kg (21), lanicemine 100 mg (20), saline (19) over 60 min during phMRI (Manchester and Oxford); unmedicated. Lanicemine arm not entered (not ketamine, not a control). IPD n=37 = ketamine + saline participants with MADRS (probable; 21+19=40 randomised). Abstract: "There was no significant antidepressant effect of either infusion compared to saline" - no numbers printed on pages read. Probable registry NCT01046630 (AstraZeneca pharmacoMRI AZD6765 vs ketamine vs placebo, Manchester/Oxford, Deakin PI, Downey research associate; MADRS/BDI at ~24 h and day 9-12) - link not printed on a page read, so trial_name left empty. Secondary report: Abdallah 2018 (56 participants; saline 18, ketamine 19, lanicemine 19; global connectivity) - same sample, do not add.'),
]
arms=[
dict(study_id='sumner2020',arm_id='ket_0.44',role='ketamine',dose='single 0.44 mg/kg IV (Cochrane: 0.25 mg/kg bolus followed by 0.25 mg/kg/h infusion for 45 min)',dose_mg_per_kg='0.44',dose_mg='',n_randomized='30',
 source_url=OFS,locator='Abstract, Methods',evidence='In a double-blind, active placebo-controlled crossover trial, electroencephalography-based LTP was recorded approximately 3 to 4 hours following a single 0.44-mg/kg intravenous dose of ketamine or active placebo (1.7 ng/mL remifentanil) in 30 patients.',
 derivation='reported: crossover - all 30 received both conditions (Cochrane CD011612 tblf-0060: "No data missing")'),
dict(study_id='sumner2020',arm_id='act',role='control',dose='remifentanil (active placebo), target-controlled 9-min infusion to 1.7 ng/mL plasma',dose_mg_per_kg='',dose_mg='',n_randomized='30',
 source_url=OFS,locator='Abstract, Methods',evidence='In a double-blind, active placebo-controlled crossover trial, electroencephalography-based LTP was recorded approximately 3 to 4 hours following a single 0.44-mg/kg intravenous dose of ketamine or active placebo (1.7 ng/mL remifentanil) in 30 patients.',
 derivation='reported: crossover - all 30 received both conditions'),
dict(study_id='karmadep2022',arm_id='ket_0.5',role='ketamine',dose='0.5 mg/kg IV over 40 min, once weekly x4',dose_mg_per_kg='0.5',dose_mg='',n_randomized='13',
 source_url=HRB,locator='Abstract, Methods and Results',evidence='four-week course of either once-weekly ketamine (0.5mg/kg) or midazolam (0.045mg/kg) infusions given over 40 minutes ... In total, 13 were randomly assigned to the ketamine arm and 12',
 derivation='reported (a registry copy on meddatax prints "ketamine at 0.05mg/kg", taken as a typo for 0.5)'),
dict(study_id='karmadep2022',arm_id='mdz',role='control',dose='midazolam 0.045 mg/kg IV over 40 min, once weekly x4',dose_mg_per_kg='',dose_mg='',n_randomized='12',
 source_url=HRB,locator='Abstract, Methods and Results',evidence='four-week course of either once-weekly ketamine (0.5mg/kg) or midazolam (0.045mg/kg) infusions given over 40 minutes ... In total, 13 were randomly assigned to the ketamine arm and 12',
 derivation='reported: the stored excerpt is cut after "and 12"; the open-foundation copy of the same abstract continues "12 to the midazolam arm"'),
dict(study_id='downey2016',arm_id='ket_0.5',role='ketamine',dose='0.5 mg/kg total dose, constant IV infusion over 60 min (40 mL)',dose_mg_per_kg='0.5',dose_mg='',n_randomized='21',
 source_url=E10430179,locator="Table 1 (eClinicalMedicine 2023 review), row 'Downey et al. (2016)' (secondary)",
 evidence='Downey et al. (2016) Single dose Parallel DSM-IV 21 ketamine 20 lanicemineb 19 IV racemic ketamine 0.5 mg/kg, lanicemine 100 mg Saline placebo',
 derivation='reported (secondary: review table); consistent with Cochrane tblf-0015 "ketamine 61.9% female" (13/21) and "Placebo group 57.9% female" (11/19); 60 randomised incl. lanicemine 20'),
dict(study_id='downey2016',arm_id='sal',role='control',dose='0.9% saline, 40 mL IV over 60 min',dose_mg_per_kg='',dose_mg='',n_randomized='19',
 source_url=E10430179,locator="Table 1 (eClinicalMedicine 2023 review), row 'Downey et al. (2016)' (secondary)",
 evidence='Downey et al. (2016) Single dose Parallel DSM-IV 21 ketamine 20 lanicemineb 19 IV racemic ketamine 0.5 mg/kg, lanicemine 100 mg Saline placebo',
 derivation='reported (secondary: review table)'),
]
binary=[
dict(study_id='sumner2020',arm_id='ket_0.44',outcome='response',time_h='24',time_anchor='first_dose',window='within 1 day of receiving ketamine (crossover; ketamine session, both periods)',
 definition='>=50% reduction in MADRS',scale='madrs',events='21',total='30',source_url=OFS,locator='Abstract, Results',
 evidence='Montgomery-Åsberg Depression Rating Scale scores revealed that 70% of participants experienced 50% or greater reduction in their depression symptoms within 1 day of receiving ketamine.',
 derivation='from_percent: round(0.70*30)=21, 21/30=70.0%; denominator 30 = all crossover participants (Cochrane: no data missing); no remifentanil-session share printed. Companion EurNPP abstract: "70% of patients demonstrated at least a 50% reduction" and response "at 24 h"'),
]
cont=[
dict(study_id='sumner2020',arm_id='ket_0.44',time_h='0',time_anchor='baseline',scale='madrs',measure='endpoint',mean='30.00',sd='5.21',se='',n='',
 source_url=C0060,locator="Cochrane CD011612 'Sumner 2020', Participants, Baseline depression severity (secondary)",
 evidence='Baseline depression severity: ketamine group MADRS M = 30.00 (SD = 5.21); Placebo MADRS M = 30.33 (SD = 4.65).',
 derivation='reported (secondary: review table); n not printed; "ketamine group" in a crossover probably = first-period ketamine group (Cochrane got first-half data from the authors) - not stated'),
dict(study_id='sumner2020',arm_id='act',time_h='0',time_anchor='baseline',scale='madrs',measure='endpoint',mean='30.33',sd='4.65',se='',n='',
 source_url=C0060,locator="Cochrane CD011612 'Sumner 2020', Participants, Baseline depression severity (secondary)",
 evidence='Baseline depression severity: ketamine group MADRS M = 30.00 (SD = 5.21); Placebo MADRS M = 30.33 (SD = 4.65).',
 derivation='reported (secondary: review table); n not printed; "Placebo" = remifentanil active placebo'),
dict(study_id='downey2016',arm_id='ket_0.5',time_h='0',time_anchor='baseline',scale='bdi',measure='endpoint',mean='30.94',sd='7.1',se='',n='',
 source_url=C0015,locator="Cochrane CD011612 'Downey 2016', Participants, Baseline depression severity (secondary)",
 evidence='Baseline depression severity: lanicemine group BDI score M = 34.5 (SD = 9.3); Ketamine group BDI score M = 30.94 (SD = 7.1); Placebo group BDI score M = 25.72 (SD = 7.67)',
 derivation='reported (secondary: review table); n not printed on this page (arm randomised 21 per PMC10430179 Table 1)'),
dict(study_id='downey2016',arm_id='sal',time_h='0',time_anchor='baseline',scale='bdi',measure='endpoint',mean='25.72',sd='7.67',se='',n='',
 source_url=C0015,locator="Cochrane CD011612 'Downey 2016', Participants, Baseline depression severity (secondary)",
 evidence='Baseline depression severity: lanicemine group BDI score M = 34.5 (SD = 9.3); Ketamine group BDI score M = 30.94 (SD = 7.1); Placebo group BDI score M = 25.72 (SD = 7.67)',
 derivation='reported (secondary: review table); n not printed on this page (arm randomised 19 per PMC10430179 Table 1)'),
]
rob=[]
def cr(study,domain,judg,support,src,label,printed_domain,printed_judg,evi_support):
    rob.append(dict(study_id=study,domain=domain,judgement=judg,support=support,assessor='cochrane_cd011612',source_url=src,
        locator=f"Cochrane CD011612 characteristics table '{label}', Risk of bias, '{printed_domain}'",
        evidence=(f'{printed_domain} | {printed_judg} {evi_support}' if evi_support.startswith('[') else f'{printed_domain} | {printed_judg} | {evi_support}')))
S='Sumner 2020'
cr('sumner2020','sequence_generation','low','Order counterbalanced.',C0060,S,'Random sequence generation (selection bias)','Low risk','Order counterbalanced.')
cr('sumner2020','allocation_concealment','unclear','Order randomised as stated, but it is unclear how or by what method.',C0060,S,'Allocation concealment (selection bias)','Unclear risk','Order randomised as stated, but it is unclear how or by what method.')
cr('sumner2020','blinding_participants_personnel','high','Blinding measures were not effective: most (88%) participants correctly identified their ketamine session during a debrief',C0060,S,'Blinding of participants and personnel (performance bias) All outcomes','High risk','Blinding measures were not effective & high risk of performance bias: quote: “most (88%) participants were able to correctly identify their ketamine session during a debrief.')
cr('sumner2020','blinding_outcome_assessment','low','MADRS assessor never present during the acute phase of drug effects; patients instructed not to share their experiences with the assessor',C0060,S,'Blinding of outcome assessment (detection bias) All outcomes','Low risk','To maintain study blinding, the MADRS assessor was never present during the acute phase of drug effects and patients were explicitly instructed not to share their experiences during the treatment sessions with the assessor.')
cr('sumner2020','incomplete_outcome_data','low','No data missing.',C0060,S,'Incomplete outcome data (attrition bias) All outcomes','Low risk','No data missing.')
cr('sumner2020','selective_reporting','unclear','No protocol available.',C0060,S,'Selective reporting (reporting bias)','Unclear risk','No protocol available.')
cr('sumner2020','other_bias','low','[support text cut off in the stored excerpt; judgement read as "Low"]',C0060,S,'Other bias','Low','[excerpt cut off here]')
rob.append(dict(study_id='sumner2020',domain='functional_unblinding',judgement='high',support='blind tested at debrief: 88% of participants correctly identified their ketamine session despite the active placebo (remifentanil)',assessor='project',
 source_url=C0060,locator="Cochrane CD011612 'Sumner 2020', Risk of bias, 'Blinding of participants and personnel' (quote of the trial report)",
 evidence='quote: “most (88%) participants were able to correctly identify their ketamine session during a debrief. This is a known issue with psychoactive drug research and is not unique to current study."'))
L='Downey 2016'
cr('downey2016','sequence_generation','unclear','Quote: "participants were randomized". No further details given on randomisation procedure.',C0015,L,'Random sequence generation (selection bias)','Unclear risk','Quote: "participants were randomized". No further details given on randomisation procedure.')
cr('downey2016','allocation_concealment','low','Research pharmacies at each site held separate randomization codes and dispensed coded infusions',C0015,L,'Allocation concealment (selection bias)','Low risk','Quote: "The research pharmacies at each site held separate randomization codes and dispensed the infusions on the day of the experiment labelled with a code number".')
cr('downey2016','blinding_participants_personnel','unclear','Coded infusions dispensed by research pharmacies; no further detail on blinding',C0015,L,'Blinding of participants and personnel (performance bias) All outcomes','Unclear risk','Quote: "The research pharmacies at each site held separate randomization codes and dispensed the infusions on the day of the experiment labelled with a code number".')
cr('downey2016','blinding_outcome_assessment','unclear','No information given.',C0015,L,'Blinding of outcome assessment (detection bias) All outcomes','Unclear risk','No information given.')
cr('downey2016','incomplete_outcome_data','unclear','Study reports dropouts (zero).',C0015,L,'Incomplete outcome data (attrition bias) All outcomes','Unclear risk','Study reports dropouts (zero).')
cr('downey2016','selective_reporting','unclear','No information given.',C0015,L,'Selective reporting (reporting bias)','Unclear risk','No information given.')
cr('downey2016','other_bias','high','Potential bias due to funding by pharmaceutical company.',C0015,L,'Other bias','High risk','Potential bias due to funding by pharmaceutical company. Quote: "This study was whol [excerpt cut off here]')
rob.append(dict(study_id='downey2016',domain='functional_unblinding',judgement='high',support='inert saline control against a dissociative drug; no blinding test reported on the pages read (project rule: inert control + dissociative drug + no test = high); abstract notes dissociative symptoms were minimal only after lanicemine',assessor='project',
 source_url=SWK,locator='Abstract (searchworks record of the journal abstract)',
 evidence='Sixty un-medicated adults meeting the criteria for major depressive disorder were randomly assigned to receive constant intravenous infusions of ketamine, lanicemine or saline ... Interviewer-rated psychotic and dissociative symptoms were minimal following administration of lanicemine.'))
K='karmadep2022'
def pr(domain,judg,support,src,loc,evi):
    rob.append(dict(study_id=K,domain=domain,judgement=judg,support=support,assessor='project',source_url=src,locator=loc,evidence=evi))
pr('sequence_generation','unclear','block randomisation stated in the registry; method of generating the sequence not described on the pages read (HRB abstract, registry copies)',CLC,'Registry record (copy of ClinicalTrials.gov NCT03256162), Detailed Description','Consented participants will be randomly allocated in a 1:1 ratio to a four week course of either once-weekly ketamine or midazolam infusions. Block randomisation will be independently performed.')
pr('allocation_concealment','unclear','"independently performed" block randomisation (registry, prospective wording); concealment mechanism not described on the pages read',CLC,'Registry record (copy of ClinicalTrials.gov NCT03256162), Detailed Description','Block randomisation will be independently performed.')
pr('blinding_participants_personnel','unclear','participants and assessors to be blind, midazolam active comparator, masking quadruple (registry); blinding success not reported on the pages read',CLC,'Registry record (copy of ClinicalTrials.gov NCT03256162), Detailed Description and Study Design','Both participants and assessors will be blind to treatment allocation. ... Masking: Quadruple (Participant, Care Provider, Investigator, Outcomes Assessor)')
pr('blinding_outcome_assessment','unclear','assessors to be blind (registry); not verified in the published report (only the abstract was readable)',CLC,'Registry record (copy of ClinicalTrials.gov NCT03256162), Detailed Description','Both participants and assessors will be blind to treatment allocation.')
pr('incomplete_outcome_data','unclear','attrition/analysed numbers not readable (abstract cut after randomisation numbers; results page not stored)',HRB,'HRB Open Research abstract, Results (excerpt ends here)','In total, 13 were randomly assigned to the ketamine arm and 12')
pr('selective_reporting','unclear','registered (NCT03256162) with HRSD-24 as primary outcome, matching the publication\'s primary clinical outcome; full results not read',CTG,'ClinicalTrials.gov record, Current Primary Outcome Measures','The Hamilton Rating Scale for Depression-24 Item Version (HRSD-24) [ Time Frame: 15 weeks ]')
pr('other_bias','unclear','pilot/feasibility trial (25 randomised, planned 20); no other sources of bias assessable from the pages read',CLC,'Registry record (copy of ClinicalTrials.gov NCT03256162), Detailed Description and Study Design','The investigators aim to recruit up to 20 participants ... Actual Enrollment : 25 participants')
pr('functional_unblinding','unclear','active placebo (midazolam 0.045 mg/kg) - supports a lower risk; no blinding test (guess data) reported on the pages read (project rule: midazolam = unclear unless tested)',HRB,'HRB Open Research abstract, Methods','Consented participants were randomly allocated to a four-week course of either once-weekly ketamine (0.5mg/kg) or midazolam (0.045mg/kg) infusions given over 40 minutes and with 12 weeks follow-up.')

write('studies',studies); write('arms',arms); write('outcomes_binary',binary); write('outcomes_continuous',cont)
write('contrasts',[]); write('relapse',[]); write('adverse_events',[]); write('risk_of_bias',rob)
print(len(studies),len(arms),len(binary),len(cont),len(rob))
