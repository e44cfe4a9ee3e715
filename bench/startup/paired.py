#!/usr/bin/env python3
"""Paired start-up comparison (issue #12, point 6) for a machine other work keeps busy: one-chunk runs of several
builds of the tool, and optionally llama-perplexity, in rotating order, timed to the microsecond (wall, and CPU from
the children's rusage); prints each side's medians and, for every side against the first, the median of the paired
per-round differences, which moves far less with the host than either side's own median.

usage: paired.py MODEL TEXT WORK_DIR REPS LABEL=COMMAND [LABEL=COMMAND ...]
  COMMAND: the tool (e.g. BEFORE/gguf-optimize, or "dotnet path/gguf-optimize.dll"), optionally preceded by
           NAME=VALUE environment settings; "ppl:LLAMA_BIN" runs LLAMA_BIN/llama-perplexity --kl-divergence-base instead.
Same command lines as shared-models.sh. RT=1 runs every process at real-time priority (chrt -f 10, root), as there;
a run over 8 s (threads spinning at equal real-time priority can stall) is reported and left out of its round.
LOGITS_ARGS="--format compact" (for example) appends those arguments to every `logits` command line, so a format
other than the default can be compared; llama-perplexity's command line stays the same.
"""
import glob
import math
import os
import resource
import shlex
import statistics as st
import subprocess
import sys
import time

model, text, work, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sides = [arg.split("=", 1) for arg in sys.argv[5:]]
os.makedirs(work, exist_ok=True)
prio = ["chrt", "-f", "10"] if os.environ.get("RT") == "1" else []


def command(spec):
    if spec.startswith("ppl:"):
        argv = [os.path.join(spec[4:], "llama-perplexity"), "-m", model, "-f", text, "-c", "128", "-b", "128",
                "--chunks", "1", "-t", "2", "--kl-divergence-base", os.path.join(work, "o.kld")]
        return argv, dict(os.environ)
    argv, env = shlex.split(spec), dict(os.environ)
    while argv and "=" in argv[0] and not argv[0].startswith(("/", ".")):
        name, value = argv.pop(0).split("=", 1)
        env[name] = value
    argv += ["logits", "-m", model, "-d", text, "-c", "128", "-o", os.path.join(work, "o.h5"), "--to-chunk", "1", "-q"]
    argv += shlex.split(os.environ.get("LOGITS_ARGS", ""))
    return argv, env


results = {label: ([], []) for label, _ in sides}
print("== %s %s(load %s)" % (os.path.basename(model), os.environ.get("LOGITS_ARGS", "") + " " if os.environ.get("LOGITS_ARGS") else "",
                            " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
for r in range(reps):
    shift = r % len(sides)
    for label, spec in sides[shift:] + sides[:shift]:
        for f in glob.glob(os.path.join(work, "o.h5*")) + glob.glob(os.path.join(work, "o.kld")):
            os.remove(f)
        argv, env = command(spec)
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        try:
            run = subprocess.run(prio + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=8)
        except subprocess.TimeoutExpired:
            print("%s: round %d took over 8 s, left out" % (label, r + 1), flush=True)
            results[label][0].append(math.nan)
            results[label][1].append(math.nan)
            continue
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
        if run.returncode != 0:
            sys.exit("%s failed (exit %d): %s" % (label, run.returncode, run.stderr.decode(errors="replace")[-400:]))
        results[label][0].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        results[label][1].append(wall)


def kept(values):
    return [v for v in values if not math.isnan(v)]


for label, _ in sides:
    cpu, wall = kept(results[label][0]), kept(results[label][1])
    print("%-8s cpu median %.3f s | wall median %.3f s [%s]" % (label, st.median(cpu), st.median(wall),
                                                               " ".join("%.2f" % w for w in wall)))
first = sides[0][0]
for label, _ in sides[1:]:
    pairs = [(a, b) for a, b in zip(zip(*results[first]), zip(*results[label]))
             if not any(math.isnan(v) for v in a + b)]
    print("%s - %s, median of %d paired differences: wall %+.3f s, cpu %+.3f s" % (
        label, first, len(pairs), st.median(b[1] - a[1] for a, b in pairs), st.median(b[0] - a[0] for a, b in pairs)))
print("   (load after %s)" % " ".join(open("/proc/loadavg").read().split()[:3]))
