import csv, re, os, shutil, sys, glob
D='/work/staging3/newtrials3'; M='/work/main/data/extracted'
ID=re.compile(r'^[a-z]+[0-9]{4}[a-z]?$')
prob=[]
files=['studies','arms','outcomes_binary','outcomes_continuous','contrasts','relapse','adverse_events','risk_of_bias','screening']
arms_main={(r['study_id'],r['arm_id']) for r in csv.DictReader(open(f'{M}/arms.csv'))}
arms_own={(r['study_id'],r['arm_id']) for r in csv.DictReader(open(f'{D}/arms.csv'))}
for f in files:
    H=next(csv.reader(open(f'{M}/{f}.csv'))); h=next(csv.reader(open(f'{D}/{f}.csv')))
    if H!=h: prob.append(f'{f}: header differs')
    for i,r in enumerate(csv.DictReader(open(f'{D}/{f}.csv')),2):
        if not ID.match(r['study_id']): prob.append(f'{f}:{i} bad id {r["study_id"]}')
        for c in ['source_url','locator','evidence','derivation']:
            if c in r and not r[c].strip(): prob.append(f'{f}:{i} empty {c}')
        if 'arm_id' in r and f!='arms' and (r['study_id'],r['arm_id']) not in arms_main|arms_own: prob.append(f'{f}:{i} unknown arm')
        if f=='outcomes_binary' and int(r['events'])>int(r['total']): prob.append(f'{f}:{i} events>total')
        if f=='risk_of_bias' and r['assessor']=='project' and not r['evidence']: prob.append('rob evidence')
# 8 domains per RoB study
from collections import Counter
rb=Counter(r['study_id'] for r in csv.DictReader(open(f'{D}/risk_of_bias.csv')))
for s,n in rb.items():
    if n!=8: prob.append(f'rob {s} has {n} rows')
# screening covers all studies and all logged candidates
sc={r['study_id'] for r in csv.DictReader(open(f'{D}/screening.csv'))}
for r in csv.DictReader(open(f'{D}/studies.csv')):
    if r['study_id'] not in sc: prob.append('study not in screening '+r['study_id'])
for r in csv.DictReader(open(f'{D}/search_log.csv')):
    if r['n_results']!=str(len([u for u in r['result_urls'].split(';') if u])): prob.append('n_results '+r['query_id'])
    for c in r['candidates'].split(';'):
        if c and c not in sc: prob.append('candidate not screened '+c)
        if c and not ID.match(c): prob.append('bad candidate id '+c)
# every source_url appears among logged result urls
logged=set()
for r in csv.DictReader(open(f'{D}/search_log.csv')): logged|=set(r['result_urls'].split(';'))
for f in files[:-1]:
    for i,r in enumerate(csv.DictReader(open(f'{D}/{f}.csv')),2):
        if r['source_url'] not in logged: prob.append(f'{f}:{i} source_url not in log')
# duplicates vs main
for f in ['studies']:
    ids={r['study_id'] for r in csv.DictReader(open(f'{M}/{f}.csv'))}
    for r in csv.DictReader(open(f'{D}/{f}.csv')):
        if r['study_id'] in ids: prob.append('already in main studies '+r['study_id'])
print('problems:',prob if prob else 'none')
# merged load with the project loader
T=f'{D}/_merged_check'
if os.path.exists(T): shutil.rmtree(T)
os.makedirs(T)
for p in glob.glob(f'{M}/*.csv'):
    name=os.path.basename(p)[:-4]
    main=list(csv.DictReader(open(p))); H=next(csv.reader(open(p)))
    own=list(csv.DictReader(open(f'{D}/{name}.csv'))) if os.path.exists(f'{D}/{name}.csv') else []
    if name=='screening':
        ownids={r['study_id'] for r in own}; main=[r for r in main if r['study_id'] not in ownids]
    w=csv.DictWriter(open(f'{T}/{name}.csv','w',newline=''),fieldnames=H); w.writeheader(); w.writerows(main+own)
sys.path.insert(0,'/work/main/src')
try:
    from ketamine_meta.data.load import load_dataset
    load_dataset(T); print('project loader on merged copy: OK')
except Exception as e:
    print('project loader:',str(e)[:3000])
shutil.rmtree(T)
