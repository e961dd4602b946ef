#!/usr/bin/env bash
# The real-text experiment of docs/geometry.md: trained embeddings on the GPL-3 text.
# Builds an instance with the corpus generator (word level, contexts of 3 words, the 200 most
# frequent), runs `ntpcheck geometry` on it (L_mm certified by ADMM, GD on L = W H with d = 32),
# prints the claims and the largest groups of contexts that share their next-token set, and
# draws docs/geometry_gpl.png: the cosine heatmap of the trained context embeddings restricted to
# the contexts whose next-token set is shared with another context (one block per set).
# Usage: docs/geometry_gpl.sh [NTPCHECK] [OUTDIR]   (default build/ntpcheck and a temporary
# directory; about 40 s on one core; needs gnuplot and /usr/bin/python3, standard library)
set -euo pipefail
cd "$(dirname "$0")/.."
ntp=${1:-build/ntpcheck}
if [[ $# -ge 2 ]]; then
  out=$2
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
"$ntp" generate corpus --corpus /usr/share/common-licenses/GPL-3 --level word \
  --context-length 3 --max-contexts 200 -o "$out/gpl3.json"
code=0
"$ntp" geometry "$out/gpl3.json" --optimizer gd --eta 5 --steps 5000 --dim 32 --no-path \
  --out "$out/geo" || code=$?
# 0: every claim holds; 2: some claim inconclusive (reported above); anything else is an error.
if [[ $code -ne 0 && $code -ne 2 ]]; then exit "$code"; fi
/usr/bin/python3 - "$out" <<'PY'
import csv, json, sys
d = sys.argv[1]
inst = json.load(open(d + "/gpl3.json"))
vocab = inst["extra"]["vocabulary"]
ctx_words = inst["extra"]["contexts"]
rows = [r for r in csv.DictReader(open(d + "/geo/heatmap_order.csv")) if r["kind"] == "context"]
count = {}
for r in rows:
    count[r["pattern_or_group"]] = count.get(r["pattern_or_group"], 0) + 1
# The contexts come ordered by support set, most repeated sets first: keep the repeated ones.
keep = [r for r in rows if count[r["pattern_or_group"]] >= 2]
n = len(keep)
cos = [line.split() for line in open(d + "/geo/context_cos.dat")]
with open(d + "/blocks.dat", "w") as f:
    for i in range(n):
        f.write(" ".join(cos[i][:n]) + "\n")
print("%d of %d contexts share their next-token set with another context (%d sets)" %
      (n, len(rows), len({r["pattern_or_group"] for r in keep})))
shown = set()
for r in keep:
    p = r["pattern_or_group"]
    if p in shown or len(shown) >= 5:
        continue
    shown.add(p)
    members = [x for x in keep if x["pattern_or_group"] == p]
    j = int(members[0]["index"])
    nxt = sorted(vocab[t] for t in inst["contexts"][j]["next_tokens"])
    names = ["'" + " ".join(vocab[t] for t in ctx_words[int(x["index"])]) + "'" for x in members]
    print("  next in {%s}: %s" % (", ".join(nxt), ", ".join(names)))
s = json.load(open(d + "/geo/summary.json"))
for c in s["claims"]:
    if c["name"] == "subspace_collapse":
        ev = c["evidence"]
        print("mean cos same set %.4f (worst pair %.4f), different sets %.4f" % (
            ev["same_support_mean_cos"][-1][1], ev["same_support_min_cos"][-1][1],
            ev["different_support_mean_cos"][-1][1]))
with open(d + "/n.txt", "w") as f:
    f.write(str(n))
PY
n=$(cat "$out/n.txt")
gnuplot <<EOF2
set terminal pngcairo size 760,700 font ",10"
set output 'docs/geometry_gpl.png'
set title "GPL-3, word level, 3-word contexts: cos(h_j, h_j') after 5000 GD steps\n(the $n contexts whose next-token set is shared; one diagonal block per set)"
set size ratio -1
set cbrange [-1:1]
set palette defined (-1 'blue', 0 'white', 1 'red')
set yrange [*:*] reverse
set autoscale xfix
set autoscale yfix
set xlabel 'contexts, grouped by next-token set (largest sets first)'
plot '$out/blocks.dat' matrix with image notitle
EOF2
echo "wrote docs/geometry_gpl.png"
