import csv
M='/work/main/data/extracted/'
T3='https://meddatax.com/clinical-trials/NCT02422186/results'
TK='https://pmc.ncbi.nlm.nih.gov/articles/PMC8547110/table/Tab3'
SU='https://dbpia.nl.go.kr/view-large/407082910'
SUA='https://dissem.in/p/133932695/a-randomized-double-blind-midazolam-controlled-trial-of-low-dose-ketamine-infusion-in-patients-with-treatment-resistant-depression-and-prominent-suicidal-ideation'
bins=[('min40',0,1),('h2_4',1,8),('h24',8,36),('d2_3',36,84),('d7',84,240),('d14',240,408),('d21_28',408,720)]
def b(t):
    t=float(t)
    for n,lo,hi in bins:
        if lo<t<=hi: return n
    return 'other'
rows=[]
def add(f,line,sid,arm,what,cur,new,label,url,conf):
    rows.append(dict(file=f,line=line,study_id=sid,arm_id=arm,outcome=what,current_time_h=cur,proposed_time_h=new,printed_label=label,label_source_url=url,
                     rule='time_h = (day - 1) * 24 after the first dose when the first dose is Day 1',confidence=conf,
                     bin_current=b(cur),bin_proposed=b(new)))
lab3='TRANSFORM-3 dosing "twice weekly for 4 weeks (Day 1, 4, 8, 11, 15, 18, 22, 25) in DB induction phase"; endpoint "Baseline up to Endpoint (Double-blind Induction Phase[Day 28])"'
for line,arm,what in [(100,'esk_flex','response'),(101,'esk_flex','remission'),(102,'pbo','response'),(103,'pbo','remission')]:
    add('outcomes_binary.csv',line,'ochsross2020',arm,what,'672','648',lab3,T3,'high (Day 1 = first dose printed for this trial)')
for line,arm in [(70,'esk_flex'),(72,'pbo')]:
    add('outcomes_continuous.csv',line,'ochsross2020',arm,'madrs change','672','648',lab3,T3,'high')
add('contrasts.csv',41,'ochsross2020','esk_flex|pbo','depression md','672','648',lab3,T3,'high')
labtk='"Change from baseline to Day 28 (DB)" / "Day 28 in the DB induction phase" (dosing days of this trial not read; Janssen-programme rule assumed)'
for line,arm,what in [(89,'esk_28','madrs endpoint'),(90,'esk_28','madrs change'),(92,'esk_56','madrs endpoint'),(93,'esk_56','madrs change'),
                      (95,'esk_84','madrs endpoint'),(96,'esk_84','madrs change'),(98,'pbo','madrs endpoint'),(99,'pbo','madrs change')]:
    add('outcomes_continuous.csv',line,'takahashi2021',arm,what,'672','648',labtk,TK,'probable (rule not printed for this trial)')
for line,arm in [(50,'esk_28|pbo'),(51,'esk_56|pbo'),(52,'esk_84|pbo')]:
    add('contrasts.csv',line,'takahashi2021',arm,'depression md (MMRM)','672','648',labtk,TK,'probable (rule not printed for this trial)')
labsu='Table 1 rows "Day 1, 240 min", "Day 2", "Day 3", "Day 5", "Day 7", "Day 14" (first rating on the infusion day = Day 1); abstract: "240 min postinfusion, and 2, 3, 5, 7, and 14 days postinfusion"'
for line,arm in [(119,'ket_0.5'),(120,'mdz')]:
    add('outcomes_binary.csv',line,'su2023',arm,'response (window "at d 2 or 3 post infusion"; window end)','72','48',labsu+'; response "at least once MADRS scores of >=50% reduction at d 2 or 3 post infusion"',SU,'moderate (table labels vs abstract wording conflict)')
for line,day,cur in [(45,2,'48'),(46,3,'72'),(47,5,'120'),(48,7,'168'),(49,14,'336')]:
    add('contrasts.csv',line,'su2023','ket_0.5|mdz',f'suicidal_ideation CSSRS-ISS remission row "Day {day}"',cur,str((day-1)*24),labsu,SU,'moderate (table labels vs abstract wording conflict)')
h=['file','line','study_id','arm_id','outcome','current_time_h','proposed_time_h','bin_current','bin_proposed','printed_label','label_source_url','rule','confidence']
with open('timing_proposals.csv','w',newline='') as f:
    w=csv.DictWriter(f,fieldnames=h); w.writeheader(); [w.writerow(r) for r in rows]
# verify current values against main
for r in rows:
    data=list(csv.DictReader(open(M+r['file'])))
    x=data[int(r['line'])-2]
    assert x['study_id']==r['study_id'] and x['time_h']==r['current_time_h'], (r['file'],r['line'],x['study_id'],x['time_h'])
print(len(rows),'timing rows verified against main tables')
