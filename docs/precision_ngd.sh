#!/usr/bin/env bash
# Regenerates docs/precision_ngd_paper_main.png (docs/precision_ngd.md): the paper's NGD run on
# paper-main (eta 0.01) extended to 10^5 steps, in double and in double-double (the reference).
# Usage: docs/precision_ngd.sh [NTPCHECK]   (default build/ntpcheck; about 2 minutes; needs
# /usr/bin/python3 with NumPy and gnuplot)
set -euo pipefail
cd "$(dirname "$0")/.."
ntp=${1:-build/ntpcheck}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in double dd; do
  "$ntp" train @paper-main --optimizer ngd --eta 0.01 --steps 100000 --precision "$p" \
    --points-per-decade 40 --out "$tmp/$p.npz" --quiet >/dev/null
done
/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
a, b = np.load(d + "/double.npz"), np.load(d + "/dd.npz")
H = 1.4117296192021385  # H of paper-main rounded to double (ntpcheck info @paper-main)
t = b["excess"]
with open(d + "/ngd.dat", "w") as f:
    for k in range(1, len(t)):
        dw = np.linalg.norm(a["W"][k] - b["W"][k]) / np.linalg.norm(b["W"][k])
        f.write("%d %.6e %.6e %.6e %.6e\n" % (a["step"][k], t[k], abs(a["excess"][k] - t[k]) / t[k],
                                            max(dw, 1e-17), 2.0**-53 * a["ce"][k] / t[k]))
        if k % 8 == 0:
            print("%6d  excess %.3e  rel.err %.2e  rel.dist W %.2e  min gap %.3g" % (
                a["step"][k], t[k], abs(a["excess"][k] - t[k]) / t[k], dw, b["min_gap"][k]))
PY
gnuplot <<EOF2
set terminal pngcairo size 900,520 font ",10"
set output 'docs/precision_ngd_paper_main.png'
set logscale xy
set format y "10^{%L}"
set xlabel "NGD step k (paper-main, eta = 0.01)"
set ylabel "relative quantity"
set key at graph 0.02, graph 0.62 left box opaque
set grid
set title "The paper's NGD run in double against double-double (10^5 steps)"
set arrow from 10000, graph 0 to 10000, graph 1 nohead dt 2 lc rgb "gray40"
set label "the paper's 10^4 steps" at 10500, 1e-9 tc rgb "gray40"
plot '$tmp/ngd.dat' u 1:2 w l lw 2 lc rgb "black" t "excess CE - H (double-double)", \
     '' u 1:3 w lp pt 7 ps 0.5 lc rgb "#0072B2" t "relative error of the double excess", \
     '' u 1:4 w lp pt 5 ps 0.5 lc rgb "#D55E00" t "relative distance of the double W", \
     '' u 1:5 w l dt 3 lw 2 lc rgb "#009E73" t "rounding of CE - H by subtraction: 2^{-53} CE / excess"
EOF2
echo "wrote docs/precision_ngd_paper_main.png"
