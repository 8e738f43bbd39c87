import csv, sys, os, json
P='/work/staging3/safety3/search_log.csv'
H=['query_id','date','verb','corpus','query','purpose','n_results','result_urls','candidates']
def log(verb,corpus,query,purpose,urls,cands=''):
    new=not os.path.exists(P)
    rows=list(csv.DictReader(open(P))) if not new else []
    qid='safety3-%03d'%(len(rows)+1)
    with open(P,'a',newline='') as f:
        w=csv.writer(f)
        if new: w.writerow(H)
        w.writerow([qid,'2026-12-01',verb,corpus,query,purpose,len(urls),';'.join(urls),cands])
    print(qid)
if __name__=='__main__':
    a=json.load(open(sys.argv[1]))
    log(a['verb'],a.get('corpus','pages'),a['query'],a.get('purpose','adverse_events'),a['urls'],a.get('cands',''))
