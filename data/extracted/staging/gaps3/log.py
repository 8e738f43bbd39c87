import csv,sys,json
# usage: python3 log.py verb corpus query purpose n urls(; sep) candidates(; sep)
f='/work/staging3/gaps3/search_log.csv'
rows=list(csv.reader(open(f)))
qid='gaps3-%03d'%len(rows)
verb,corpus,query,purpose,n,urls,cands=sys.argv[1:8]
csv.writer(open(f,'a',newline='')).writerow([qid,'2026-12-01',verb,corpus,query,purpose,n,urls,cands])
print(qid)
