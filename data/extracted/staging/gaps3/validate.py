import csv,re,glob,os
M='/work/main/data/extracted/'
idre=re.compile(r'^[a-z]+[0-9]{4}[a-z]?$')
marms={(r['study_id'],r['arm_id']) for r in csv.DictReader(open(M+'arms.csv'))}
ok=True
def err(*a):
    global ok; ok=False; print('ERR',*a)
for f in sorted(glob.glob('*.csv')):
    h=next(csv.reader(open(f)))
    base='arms.csv' if f=='arms_updates.csv' else (f if os.path.exists(M+f) else None)
    if base and h!=next(csv.reader(open(M+base))): err(f,'header mismatch')
    rows=list(csv.DictReader(open(f)))
    for i,r in enumerate(rows,2):
        sid=r.get('study_id')
        if sid and not idre.match(sid): err(f,i,'bad id',sid)
        if base and f!='screening.csv':
            for c in ('source_url','locator','evidence','derivation'):
                if c in r and not r[c].strip(): err(f,i,'missing',c)
        if r.get('arm_id'):
            for a in r['arm_id'].split('|'):
                if (sid,a) not in marms: err(f,i,'arm not in main arms',sid,a)
        if f=='outcomes_binary.csv':
            if r['outcome'] not in ('response','remission','relapse'): err(f,i,'outcome')
            if r['time_anchor'] not in ('first_dose','last_dose','baseline'): err(f,i,'anchor')
            if r['scale'] not in 'madrs hamd17 hamd21 hamd24 hamd25 hamd6 bdi qids ids hads_d other'.split(): err(f,i,'scale')
            if not (0<=int(r['events'])<=int(r['total'])): err(f,i,'events>total')
            codes=r['derivation'].split(':')[0].split('+')
            if any(c not in ('reported','from_percent','from_se','from_ci','from_p','digitized','imputed','computed','sign_flipped') for c in codes): err(f,i,'deriv code')
        if f=='arms_updates.csv' and r['role'] not in ('ketamine','control'): err(f,i,'role')
        if f=='screening.csv' and r['decision'] not in ('included','excluded'): err(f,i,'decision')
    print(f,len(rows))
L=list(csv.DictReader(open('search_log.csv')))
if next(csv.reader(open('search_log.csv')))!='query_id,date,verb,corpus,query,purpose,n_results,result_urls,candidates'.split(','): err('log header')
P={'trial_name','drug_route_design','relapse_durability','author_group','review_reference_list','risk_of_bias','adverse_events','reference_value','crossover','follow_up'}
for i,r in enumerate(L,1):
    if r['query_id']!='gaps3-%03d'%i: err('log id',r['query_id'])
    if r['purpose'] not in P: err('purpose',r['query_id'])
    if r['date']!='2026-12-01' or r['verb']!='search' or r['corpus']!='pages': err('date/verb/corpus',r['query_id'])
    if len([u for u in r['result_urls'].split(';') if u])!=int(r['n_results']): err('n_results',r['query_id'])
    for c in [x for x in r['candidates'].split(';') if x]:
        if not idre.match(c): err('cand id',c)
cands={x for r in L for x in r['candidates'].split(';') if x}
scr={r['study_id'] for r in csv.DictReader(open('screening.csv'))}
if cands-scr: err('candidates not screened',cands-scr)
if scr-cands: err('screened but not logged',scr-cands)
print('search calls',len(L),'| candidates',len(cands),'| screened',len(scr))
print('VALIDATION OK' if ok else 'VALIDATION FAILED')
