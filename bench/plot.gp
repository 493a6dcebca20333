# bench/plot.gp -- charts of one `make bench` run; run in bench/results/ (bench/run.sh does)
# on the data files bench/report.py writes there.
load "labels.gp"
set terminal pngcairo size 1100,520 font "sans,10"
set grid ytics lc rgb "#dddddd"
set key top left

# --- throughput against its physical limit ---------------------------------------------
set output "throughput.png"
set multiplot layout 1,2 title "Throughput against the physical limit (medians of the rounds) -- ".machine
set style fill solid 0.85 border -1
set boxwidth 0.6
set ylabel "per second"
set yrange [0:*]
set xrange [-0.7:1.7]
set offsets 0, 0, graph 0.12, 0
set key top left
set xtics ("whole server" 0, "physical limit" 1) nomirror
set title sprintf("Enrollments/s (1 pki) vs. mdm\\_cert\\_issue loop: ratio %.2f", enroll_ratio)
plot "throughput.dat" every ::0::0 using (0):2 with boxes lc rgb "#1f77b4" title "Discover + GetPolicies + RST, HTTPS", \
     "" every ::0::0 using (1):3 with boxes lc rgb "#aaaaaa" title "certificates issued in memory, 1 process", \
     "" every ::0::0 using (0):2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle, \
     "" every ::0::0 using (1):3:(sprintf("%.0f", $3)) with labels offset 0,0.8 notitle
set title sprintf("SyncML messages/s (1 syncml) vs. bare civetweb: ratio %.2f", syncml_ratio)
plot "throughput.dat" every ::1::1 using (0):2 with boxes lc rgb "#2ca02c" title "Alert + Replace in, Status out, mTLS", \
     "" every ::1::1 using (1):3 with boxes lc rgb "#aaaaaa" title "civetweb, same TLS settings, fixed answer", \
     "" every ::1::1 using (0):2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle, \
     "" every ::1::1 using (1):3:(sprintf("%.0f", $3)) with labels offset 0,0.8 notitle
unset multiplot

# --- throughput by concurrency ---------------------------------------------------------------
reset
load "labels.gp"
set terminal pngcairo size 900,520 font "sans,10"
set output "concurrency.png"
set grid lc rgb "#dddddd"
set title "Closed-loop throughput by number of keep-alive connections -- ".machine
set xlabel "connections (load generator on the same cores)"
set ylabel "per second (log scale)"
set logscale y
set logscale x 2
set key bottom right
plot "concurrency.dat" using 1:2 with linespoints lw 2 pt 7 title "enrollments/s", \
     "" using 1:3 with linespoints lw 2 pt 5 title "SyncML messages/s", \
     "" using 1:4 with linespoints lw 2 pt 9 dt 2 title "bare civetweb requests/s (limit)"

# --- latency at half load --------------------------------------------------------------------
reset
load "labels.gp"
set terminal pngcairo size 900,520 font "sans,10"
set output "latency.png"
set grid lc rgb "#dddddd"
set title "Latency at half the measured maximum (open loop, from the scheduled arrival) -- ".machine
set xlabel "percentile"
set ylabel "milliseconds (log scale)"
set logscale y
set xrange [0:100]
set key top left
plot "enroll_half.cdf" using 1:2 with lines lw 2 title sprintf("enrollment at %.0f/s (3 requests)", enroll_rate), \
     "manage_half.cdf" using 1:2 with lines lw 2 title sprintf("SyncML message at %.0f/s", syncml_rate)

# --- the main runs second by second ----------------------------------------------------------------
reset
load "labels.gp"
set terminal pngcairo size 900,420 font "sans,10"
set output "timeline.png"
set grid lc rgb "#dddddd"
set title "Main runs, completed per second -- ".machine
set xlabel "second of the run"
set ylabel "per second"
set yrange [0:*]
set key bottom right
plot "timeline.dat" using 1:2 with steps lw 2 title "enrollments (1 pki)", \
     "" using 1:3 with steps lw 2 title "SyncML messages (1 syncml)"
