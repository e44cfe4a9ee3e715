#!/usr/bin/env bash
# Two builds of the bench, phase by phase, alternating A and B for each phase of each round (BENCHMARKS: "Second pass
# on storing and start-up"). The model and text come from an earlier `logits --keep` run of the bench (its folder
# ggufopt-bench-32000-512). Prints "round phase A|B load=… RESULT wall cpu peakMB tokens".
# usage: paired-children.sh A.dll B.dll BENCH_DIR ROUNDS PHASE...   (e.g. OMP_WAIT_POLICY=passive … cold f32 f16 coldhalf llamacpp)
# Another bench folder's model and shape: MODEL=synthetic-128k-256.gguf CHILD_ARGS="--vocab 128256 --ctx 4096 --chunks 2".
set -u
model=${MODEL:-synthetic-32k-256.gguf}
read -r -a extra <<< "${CHILD_ARGS:-}"
a=$1 b=$2 dir=$3 rounds=$4; shift 4
for r in $(seq 1 "$rounds"); do
  for p in "$@"; do
    for side in A B; do
      dll=$a; [ $side = B ] && dll=$b
      load=$(cut -d' ' -f1 /proc/loadavg)
      line=$(dotnet "$dll" logits "${extra[@]}" --child-phase "$p" --model "$dir/$model" --data "$dir"/data.txt --out "$dir" 2>&1 | grep RESULT)
      echo "$r $p $side load=$load $line"
    done
  done
done
