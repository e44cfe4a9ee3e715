#!/usr/bin/env bash
# Runs the shards, waits for all of them, then the merge:  run.sh [NAMESPACE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ns=(--namespace "${1:-default}")
kubectl "${ns[@]}" apply -f "$here/storage.yaml"
kubectl "${ns[@]}" apply -f "$here/shards-job.yaml"
# Complete = every index succeeded; Failed = an index used up its retries.
kubectl "${ns[@]}" wait --for=condition=complete --timeout=-1s job/ggo-shards &
ok=$!
kubectl "${ns[@]}" wait --for=condition=failed --timeout=-1s job/ggo-shards &
failed=$!
wait -n "$ok" "$failed" || true
if ! kubectl "${ns[@]}" get job ggo-shards -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}' | grep -q True; then
  kill "$ok" "$failed" 2>/dev/null || true
  echo "run.sh: the shards failed; see kubectl logs -l job-name=ggo-shards" >&2
  exit 1
fi
kill "$failed" 2>/dev/null || true
kubectl "${ns[@]}" apply -f "$here/merge-job.yaml"
kubectl "${ns[@]}" wait --for=condition=complete --timeout=-1s job/ggo-merge
kubectl "${ns[@]}" logs job/ggo-merge
