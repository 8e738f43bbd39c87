import csv, sys, json, os
# usage: python3 log.py '<json>' with keys verb,corpus,query,purpose,urls(list),candidates(list)
p='/work/staging3/newtrials3/search_log.csv'
H='query_id,date,verb,corpus,query,purpose,n_results,result_urls,candidates'.split(',')
rows=list(csv.DictReader(open(p))) if os.path.exists(p) else []
d=json.loads(sys.argv[1])
qid='newtrials3-%03d'%(len(rows)+1)
rows.append(dict(query_id=qid,date='2026-12-01',verb=d.get('verb','search'),corpus=d.get('corpus','pages'),query=d['query'],purpose=d['purpose'],n_results=str(len(d['urls'])),result_urls=';'.join(u.replace(';','%3B') for u in d['urls']),candidates=';'.join(d.get('candidates',[]))))
w=csv.DictWriter(open(p,'w',newline=''),fieldnames=H); w.writeheader(); w.writerows(rows)
print(qid)
