#!/usr/bin/env bash
# Submits a sharded gguf-optimize run: an array job of N shards and a merge job that starts when all of them succeeded.
#   submit.sh N COMMAND OUTPUT [ARGS...]
# e.g. submit.sh 8 logits /shared/base.h5 -m /shared/model.gguf -d /shared/eval.txt -c 4096
# Environment:
#   GGUF_OPTIMIZE      the tool on the compute nodes (default gguf-optimize; e.g. "dotnet /opt/ggo/gguf-optimize.dll")
#   SHARD_SBATCH_ARGS  extra sbatch options for the shards (e.g. "--partition=gpu --gres=gpu:1 --cpus-per-task=8")
#   MERGE_SBATCH_ARGS  extra sbatch options for the merge
#   SUBMIT_WAIT=1      wait until the merge job ends; exit 0 only when it completed
# Prints the two job ids. OUTPUT must be on storage every node sees; the pieces are OUTPUT.shard-K-of-N beside it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
n=${1:?usage: submit.sh N COMMAND OUTPUT [ARGS...]}
command=${2:?usage: submit.sh N COMMAND OUTPUT [ARGS...]}
output=${3:?usage: submit.sh N COMMAND OUTPUT [ARGS...]}
shift 3
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N must be a positive number (got '$n')" >&2; exit 2; }
case "$command" in logits|kld|imatrix) ;; *) echo "submit.sh: COMMAND must be logits, kld or imatrix (got '$command')" >&2; exit 2 ;; esac
output=$(realpath -m "$output")

read -r -a shard_args <<<"${SHARD_SBATCH_ARGS:-}"
read -r -a merge_args <<<"${MERGE_SBATCH_ARGS:-}"
array=$(sbatch --parsable --array="0-$((n - 1))" "${shard_args[@]}" "$here/shard-array.sbatch" "$command" "$output" "$@")
array=${array%%;*}
echo "shards: job $array (tasks 0-$((n - 1))); merge after all of them succeed -> $output"
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes "${merge_args[@]}" "$here/merge.sbatch" "$output" "$n")
merge=${merge%%;*}
echo "merge: job $merge"
[ "${SUBMIT_WAIT:-0}" = 1 ] || exit 0

# Wait for the merge job here (sbatch --wait polls with a back-off that can add half a minute to a short run).
while [ -n "$(squeue -h -j "$merge" -o %i 2>/dev/null)" ]; do sleep 1; done
state=$(scontrol -o show job "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)
if [ "$state" != COMPLETED ]; then
  echo "submit.sh: merge job $merge ended ${state:-in an unknown state}: a shard failed or the merge refused its pieces; see ggo-shard-${array}_*.log and ggo-merge-$merge.log" >&2
  exit 1
fi
echo "merged: $output"
