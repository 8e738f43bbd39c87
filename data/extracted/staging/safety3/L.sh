#!/bin/bash
# usage: L.sh "query" "url1;url2" "cands" [purpose] [verb] [corpus]
python3 - "$@" <<'PY'
import sys
sys.path.insert(0,'/work/staging3/safety3')
from log import log
q=sys.argv[1]; urls=[u for u in sys.argv[2].split(';') if u]; c=sys.argv[3] if len(sys.argv)>3 else ''
p=sys.argv[4] if len(sys.argv)>4 else 'adverse_events'
v=sys.argv[5] if len(sys.argv)>5 else 'search'
co=sys.argv[6] if len(sys.argv)>6 else 'pages'
log(v,co,q,p,urls,c)
PY
