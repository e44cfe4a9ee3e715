#!/usr/bin/env bash
# Two builds of the tool against llama-perplexity in one run (issue #12, point 6): one-chunk `logits -c 128` of each
# build and one-chunk `llama-perplexity --kl-divergence-base`, alternating, on one model; medians and ranges of CPU
# (user + sys) and wall per side. Same command lines as shared-models.sh.
# usage: before-after.sh BEFORE_TOOL AFTER_TOOL LLAMA_BIN MODEL TEXT WORK_DIR [REPS]   (RT=1: as in shared-models.sh)
set -euo pipefail
before=$1 after=$2 bin=$3 model=$4 text=$5 work=$6 reps=${7:-9}
prio=""
[ "${RT:-0}" = 1 ] && prio="chrt -f 10"
mkdir -p "$work"
echo "== $(basename "$model") (load $(cut -d' ' -f1-3 /proc/loadavg))"
for r in $(seq 1 "$reps"); do
  for side in before after theirs; do
    rm -f "$work"/o.h5* "$work"/o.kld
    case $side in
      before|after)
        tool=$before; [ $side = after ] && tool=$after
        $prio /usr/bin/time -f "$side %U %S %e" $tool logits -m "$model" -d "$text" -c 128 -o "$work/o.h5" --to-chunk 1 -q 2>&1 >/dev/null | tail -1;;
      theirs)
        $prio /usr/bin/time -f "theirs %U %S %e" "$bin/llama-perplexity" -m "$model" -f "$text" -c 128 -b 128 --chunks 1 -t 2 --kl-divergence-base "$work/o.kld" 2>&1 >/dev/null | tail -1;;
    esac
  done
done | python3 "$(dirname "$0")/medians.py" before after theirs
rm -f "$work"/o.h5* "$work"/o.kld
echo "   (load after $(cut -d' ' -f1-3 /proc/loadavg))"
