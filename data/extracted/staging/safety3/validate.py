import csv,re,sys
M='/work/main/data/extracted/'; D='/work/staging3/safety3/'
ok=True
def err(m):
    global ok; ok=False; print('ERROR',m)
def hdr(p): return next(csv.reader(open(p)))
for f in ['adverse_events.csv','arms.csv','reference_values.csv','screening.csv']:
    if hdr(D+f)!=hdr(M+f): err(f+' header mismatch')
slog=['query_id','date','verb','corpus','query','purpose','n_results','result_urls','candidates']
if hdr(D+'search_log.csv')!=slog: err('search_log header')
arms={(r['study_id'],r['arm_id']) for r in csv.DictReader(open(M+'arms.csv'))}
arms|={(r['study_id'],r['arm_id']) for r in csv.DictReader(open(D+'arms.csv'))}
studies={r['study_id'] for r in csv.DictReader(open(M+'studies.csv'))}
rx=re.compile(r'^[a-z]+[0-9]{4}[a-z]?$')
EV={'dissociation','blood_pressure_systolic','blood_pressure_diastolic','blood_pressure_any','mania_hypomania','psychotomimetic','dropout_adverse_event','dropout_any','serious_adverse_event','nausea','headache','dizziness','other'}
ME={'proportion','mean_change','mean_peak','mean'}; SC={'cadss','bprs','ymrs','mmhg','other'}; UN={'points','mmHg','participants'}
AN={'first_dose','last_dose','baseline',''}
main_ae={(r['study_id'],r['arm_id'],r['event'],r['measure']) for r in csv.DictReader(open(M+'adverse_events.csv'))}
for i,r in enumerate(csv.DictReader(open(D+'adverse_events.csv')),2):
    if not rx.match(r['study_id']) or r['study_id'] not in studies: err(f'ae {i} study {r["study_id"]}')
    if (r['study_id'],r['arm_id']) not in arms: err(f'ae {i} arm {r["arm_id"]}')
    if r['event'] not in EV or r['measure'] not in ME or r['scale'] not in SC or r['unit'] not in UN or r['time_anchor'] not in AN: err(f'ae {i} enum')
    for c in ['source_url','locator','evidence','derivation']:
        if not r[c].strip(): err(f'ae {i} missing {c}')
    if r['measure']=='proportion':
        e,t=int(r['events']),int(r['total'])
        if not (0<=e<=t): err(f'ae {i} events>total')
    else:
        float(r['mean'])
        if r['se'] and not r['n']: err(f'ae {i} se without n')
    if (r['study_id'],r['arm_id'],r['event'],r['measure']) in main_ae: err(f'ae {i} duplicates a main row')
for i,r in enumerate(csv.DictReader(open(D+'arms.csv')),2):
    if not rx.match(r['study_id']) or r['role'] not in ('ketamine','control'): err(f'arms {i}')
    for c in ['source_url','locator','evidence','derivation']:
        if not r[c].strip(): err(f'arms {i} missing {c}')
    if (r['study_id'],r['arm_id']) in {(a['study_id'],a['arm_id']) for a in csv.DictReader(open(M+'arms.csv'))}: err('arm dup')
mainq={r['quantity'] for r in csv.DictReader(open(M+'reference_values.csv'))}
for i,r in enumerate(csv.DictReader(open(D+'reference_values.csv')),2):
    float(r['value'])
    if r['quantity'] in mainq: err(f'rv {i} duplicate quantity')
    for c in ['quantity','source_url','locator','evidence','derivation']:
        if not r[c].strip(): err(f'rv {i} missing {c}')
sc={r['study_id'] for r in csv.DictReader(open(D+'screening.csv'))}
for i,r in enumerate(csv.DictReader(open(D+'screening.csv')),2):
    if not rx.match(r['study_id']) or r['decision'] not in ('included','excluded'): err(f'scr {i}')
cands=set(); n=0
for r in csv.DictReader(open(D+'search_log.csv')):
    n+=1
    if r['verb']!='read_file' and int(r['n_results'])!=len([u for u in r['result_urls'].split(';') if u]): err('n_results '+r['query_id'])
    cands|={x for x in r['candidates'].split(';') if x}
    if not r['query_id'].startswith('safety3-'): err('qid')
for x in cands:
    if not rx.match(x): err('cand id '+x)
if cands-sc: err('candidates missing from screening: '+str(cands-sc))
for r in csv.DictReader(open(D+'adverse_events.csv')):
    if r['study_id'] not in sc: err('ae study not screened '+r['study_id'])
print('search calls logged:',n)
print('OK' if ok else 'FAILED')
