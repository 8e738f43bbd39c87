import csv,sys,os
# usage: python3 log.py verb corpus "query" n_results "urls;..." "candidates"
p='/work/staging3/second_read/search_log.csv'
new=not os.path.exists(p)
rows=list(csv.reader(open(p))) if not new else []
qid='second_read-%03d'%(len(rows) if rows else 1)
with open(p,'a',newline='') as f:
    w=csv.writer(f)
    if new: w.writerow(['query_id','date','verb','corpus','query','purpose','n_results','result_urls','candidates'])
    verb,corpus,q,n,urls,c=sys.argv[1:7]
    w.writerow([qid,'2026-12-01',verb,corpus,q,'second_read',n,urls,c])
print(qid)
