import csv, sys
from pathlib import Path
groups = ["iv1", "iv2", "intranasal", "oral_im_sc", "relapse"]
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
names = ["studies","arms","outcomes_binary","outcomes_continuous","contrasts","relapse","screening","reference_values"]
for n in names:
    header=None; rows=[]
    for g in groups:
        p = Path("/work/staging")/g/f"{n}.csv"
        if not p.exists(): continue
        with open(p, newline="", encoding="utf-8") as f:
            r = csv.reader(f); h = next(r)
            if header is None: header = h
            elif h != header: print("HEADER MISMATCH", g, n, h, header); 
            for row in r:
                if any(c.strip() for c in row): rows.append(row)
    if header is None: continue
    key = {"studies":0,"arms":0,"screening":0}.get(n)
    rows.sort(key=lambda r: tuple(r[:2]))  # stable by study_id, second column
    with open(out/f"{n}.csv","w",newline="",encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n"); w.writerow(header); w.writerows(rows)
    print(n, len(rows))
