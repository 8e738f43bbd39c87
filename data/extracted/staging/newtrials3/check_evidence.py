import csv, glob, re
D='/work/staging3/newtrials3'
def norm(s): return re.sub(r'\s+',' ',s).strip()
ex={}
for f in glob.glob(f'{D}/excerpts/*.txt'):
    t=open(f).read()
    urls=re.findall(r'https?://\S+',t.splitlines()[0])
    for u in urls:
        u=u.rstrip(';').rstrip(')')
        ex.setdefault(u,'')
        ex[u]+=' '+norm(t)
    # extra URLs on other lines marked [newtrials3-...]
    for line in t.splitlines()[1:]:
        m=re.match(r'\[newtrials3-[^\]]*\]\s+(https?://\S+)',line)
        if m: ex.setdefault(m.group(1),''); ex[m.group(1)]+=' '+norm(t)
bad=0;n=0
for f in ['studies','arms','outcomes_binary','outcomes_continuous','risk_of_bias','adverse_events','contrasts','relapse']:
    for i,r in enumerate(csv.DictReader(open(f'{D}/{f}.csv')),2):
        u=r['source_url']; e=r['evidence']
        txt=ex.get(u)
        if txt is None: print('NO EXCERPT FILE',f,i,u); bad+=1; continue
        segs=[s for s in re.split(r'\s*\.\.\.\s*|\[excerpt cut off here\]',e) if s.strip()]
        for s in segs:
            n+=1
            if norm(s) not in txt:
                print('MISMATCH',f,i,repr(s[:120])); bad+=1
print('segments checked',n,'problems',bad)
