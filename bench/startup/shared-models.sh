#!/usr/bin/env bash
# Fixed start-up on the shared models (issue #12, point 6): one-chunk `gguf-optimize logits` against one-chunk
# `llama-perplexity --kl-divergence-base`, paired and alternating, CPU (user + sys) and wall of each process, and the
# time from process start to the first decode (strace: from execve to the open of the output's .partial file, which
# happens right before the first llama_decode; strace itself adds a little).
# usage: shared-models.sh TOOL LLAMA_BIN SHARED_DIR WORK_DIR [REPS]
#   TOOL: the installed tool (e.g. the gguf-optimize that `dotnet tool install --tool-path` made) or "dotnet path/gguf-optimize.dll"
# RT=1 runs every timed process (both sides) at real-time priority (chrt -f 10, needs root): on a machine other work
# keeps busy, that gives both sides the cores as on a quiet machine (the kernel still keeps 5 % for the rest); it does
# not remove their memory and cache traffic, so a quiet run remains the reference.
set -euo pipefail
tool=$1 bin=$2 shared=$3 work=$4 reps=${5:-5}
prio=""
[ "${RT:-0}" = 1 ] && prio="chrt -f 10"
mkdir -p "$work"
text="$shared/data/aidreams-samples.txt"
for model in "$shared/models/aidreams260K-f32.gguf" "$shared/models/llama-2-tiny-random.gguf"; do
  name=$(basename "$model" .gguf)
  echo "== $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for r in $(seq 1 "$reps"); do
    for side in ours theirs; do
      rm -f "$work"/o.h5* "$work"/o.kld
      if [ $side = ours ]; then
        $prio /usr/bin/time -f "ours   %U %S %e" $tool logits -m "$model" -d "$text" -c 128 -o "$work/o.h5" --to-chunk 1 -q 2>&1 >/dev/null | tail -1
      else
        $prio /usr/bin/time -f "theirs %U %S %e" "$bin/llama-perplexity" -m "$model" -f "$text" -c 128 -b 128 --chunks 1 -t 2 --kl-divergence-base "$work/o.kld" 2>&1 >/dev/null | tail -1
      fi
    done
  done | python3 "$(dirname "$0")/medians.py" ours theirs
  rm -f "$work"/o.h5*
  strace -f -tt -e trace=execve,openat -o "$work/strace.txt" $tool logits -m "$model" -d "$text" -c 128 -o "$work/o.h5" --to-chunk 1 -q >/dev/null 2>&1
  python3 - "$work/strace.txt" <<'PY'
import re, sys
times = []
for line in open(sys.argv[1]):
    m = re.match(r'\d+\s+(\d+):(\d+):([\d.]+) (.*)', line)
    if m: times.append((int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]), m[4]))
start = times[0][0]
first = [t for t, s in times if 'o.h5.partial"' in s and 'ENOENT' not in s]
print(f"process start to first decode (last open of the .partial before decoding): {first[-1] - start:.2f} s" if first else "no .partial opened")
PY
done
