import csv
M='/work/main/data/extracted/'
def hdr(name): return next(csv.reader(open(M+name)))
def write(name, rows, header=None):
    h = header or hdr(name)
    with open(name,'w',newline='') as f:
        w=csv.DictWriter(f, fieldnames=h); w.writeheader()
        for r in rows: w.writerow({k:r.get(k,'') for k in h})

SOF='https://pmc.ncbi.nlm.nih.gov/articles/PMC8499740/table/CD011611-tbl-0002'
MDX='https://meddatax.com/clinical-trials/NCT01944293/results'
loc_resp=("Cochrane CD011611 (bipolar) Summary of findings 2, ketamine vs midazolam, row 'Efficacy: number of participants who respond to treatment - at 24 hours' "
          "(secondary: review table; 16 participants, 1 RCT = this trial); arm totals from meddatax NCT01944293 results, Participant milestones")
loc_rem=loc_resp.replace("respond to treatment - at 24 hours","achieve remission - at 24 hours")
ev_resp="respond to treatment ‐ at 24 hours Study population OR 3.20 (0.23 to 45.19) 16 (1 RCT) ... 111 per 1,000 286 per 1,000 (28 to 850) | meddatax: Overall Study STARTED 7 9 (Ketamine, Midazolam)"
ev_rem="achieve remission ‐ at 24 hours Study population OR 1.33 (0.07 to 25.91) 16 (1 RCT) ... 111 per 1,000 143 per 1,000 (9 to 764) | meddatax: Overall Study STARTED 7 9 (Ketamine, Midazolam)"
common=dict(study_id='grunebaum2017',time_h='24',time_anchor='first_dose',window='',scale='other',source_url=SOF)
dresp="responder at 24 h as counted by Cochrane CD011611 (criterion not printed in the SoF; depression scale HDRS per SoF abbreviations, version not stated)"
drem="remitter at 24 h as counted by Cochrane CD011611 (threshold not printed in the SoF; HDRS per SoF abbreviations, version not stated)"
tail=(" Totals are the arm sizes printed on "+MDX+" ('STARTED 7 9', all 7 and 9 completed). secondary: review table. In a one-study SoF the "
      "'risk with midazolam' is the observed control risk; the 'risk with ketamine' is assumed risk x OR, which here equals the observed ketamine risk "
      "(the counts reproduce the printed OR exactly). Same data as contrasts.csv grunebaum2017 log_or rows (use one).")
B=[
 dict(common,arm_id='ket_0.5',outcome='response',definition=dresp,events='2',total='7',locator=loc_resp,evidence=ev_resp,
      derivation="from_percent+computed: round(0.286*7)=2.0 -> 2; 2/7=285.7 per 1,000 -> 286; check OR (2/5)/(1/8)=3.20 = printed OR 3.20."+tail),
 dict(common,arm_id='mdz',outcome='response',definition=dresp,events='1',total='9',locator=loc_resp,evidence=ev_resp,
      derivation="from_percent+computed: round(0.111*9)=1.0 -> 1; 1/9=111.1 per 1,000 -> 111; check OR (2/5)/(1/8)=3.20 = printed OR 3.20."+tail),
 dict(common,arm_id='ket_0.5',outcome='remission',definition=drem,events='1',total='7',locator=loc_rem,evidence=ev_rem,
      derivation="from_percent+computed: round(0.143*7)=1.0 -> 1; 1/7=142.9 per 1,000 -> 143; check OR (1/6)/(1/8)=1.333 = printed OR 1.33."+tail),
 dict(common,arm_id='mdz',outcome='remission',definition=drem,events='1',total='9',locator=loc_rem,evidence=ev_rem,
      derivation="from_percent+computed: round(0.111*9)=1.0 -> 1; 1/9=111.1 per 1,000 -> 111; check OR (1/6)/(1/8)=1.333 = printed OR 1.33."+tail),
]
write('outcomes_binary.csv',B)
for n in ['studies.csv','arms.csv','outcomes_continuous.csv','contrasts.csv','reference_values.csv','relapse.csv','risk_of_bias.csv','adverse_events.csv']:
    write(n,[])
# proposed update of two existing arm rows (n_randomized was empty)
A=[dict(study_id='grunebaum2017',arm_id='ket_0.5',role='ketamine',dose='0.5 mg/kg IV',dose_mg_per_kg='0.5',dose_mg='',n_randomized='7',source_url=MDX,
        locator='Participant Flow, Participant milestones, Overall Study STARTED (Ketamine column)',
        evidence='Ketamine 0.5 mg/kg, I.V. ... Midazolam 0.02 mg/kg, I.V. ... Overall Study STARTED 7 9 ... COMPLETED 7 9 ... NOT COMPLETED 0 0',
        derivation='reported (registry results, Participant milestones); PROPOSED UPDATE of the existing arms.csv row (n_randomized empty there); 7+9=16 = trial N'),
   dict(study_id='grunebaum2017',arm_id='mdz',role='control',dose='midazolam 0.02 mg/kg IV',dose_mg_per_kg='',dose_mg='',n_randomized='9',source_url=MDX,
        locator='Participant Flow, Participant milestones, Overall Study STARTED (Midazolam column)',
        evidence='Ketamine 0.5 mg/kg, I.V. ... Midazolam 0.02 mg/kg, I.V. ... Overall Study STARTED 7 9 ... COMPLETED 7 9 ... NOT COMPLETED 0 0',
        derivation='reported (registry results, Participant milestones); PROPOSED UPDATE of the existing arms.csv row (n_randomized empty there); 7+9=16 = trial N')]
write('arms_updates.csv',A,hdr('arms.csv'))
