"""Reads "SIDE user sys wall" lines (from /usr/bin/time) on stdin; prints each side's CPU (user + sys) and wall times
with their medians and ranges, then the difference of the medians of every side against the last one named."""
import statistics as st
import sys

sides = sys.argv[1:]
runs = {side: ([], []) for side in sides}
for line in sys.stdin:
    side, user, system, wall = line.split()
    runs[side][0].append(float(user) + float(system))
    runs[side][1].append(float(wall))
for side in sides:
    cpu, wall = runs[side]
    print("%-7s cpu: %s (median %.2f) | wall: %s (median %.2f) | n=%d" % (
        side, " ".join("%.2f" % c for c in cpu), st.median(cpu), " ".join("%.2f" % w for w in wall), st.median(wall), len(cpu)))
anchor = sides[-1]
for side in sides[:-1]:
    print("%s - %s, medians: cpu %+.2f s, wall %+.2f s" % (side, anchor, st.median(runs[side][0]) - st.median(runs[anchor][0]),
                                                      st.median(runs[side][1]) - st.median(runs[anchor][1])))
