#!/usr/bin/env bash
# Runs every command of two gguf-optimize builds with the same arguments on the same model and text, each build in
# turn in the same folder (WORK/run, with the inputs copied in, so recorded absolute paths agree; the results are then
# moved to WORK/old and WORK/new), and compares every output file byte for byte. Used to show that a refactoring
# changes no output.
#
#   bench/identical-outputs.sh OLD/gguf-optimize.dll NEW/gguf-optimize.dll model.gguf text.txt [workdir]
#
# Prints one line per output: "same", "same*" (equal once clock fields are masked, see MASK), or "DIFFERS" with the
# differing byte count. Only fields that record wall-clock time or durations are masked. A file that records the
# hash of a file holding such a field (iterate's state.json hashes calibration/manifest.json, which has "created")
# differs in that hash too.
set -u
old_cli=$(realpath "$1"); new_cli=$(realpath "$2"); model=$(realpath "$3"); text=$(realpath "$4")
work=${5:-$(mktemp -d)}
mkdir -p "$work"
# JSON keys whose values are clocks or durations (not results).
MASK='"(created|started|finished|updated|elapsed[A-Za-z_]*|seconds|duration[A-Za-z_]*|[A-Za-z_]*_seconds|[A-Za-z_]*Seconds|wall[A-Za-z_]*|time[A-Za-z_]*|write_ticks|tokensPerSecond|tokens_per_second)": *("[^"]*"|[0-9.eE+-]+)'

run_all() {
    local cli=$1 dir=$2 result=$3
    rm -rf "$dir" "$result"; mkdir -p "$dir"; cd "$dir" || exit 1
    cp "$model" model.gguf; cp "$text" text.txt
    local g="dotnet $cli"
    {
    $g inspect model.gguf --json > inspect.json
    $g dataset --source text.txt -n 40 --output dataset.txt --json dataset.result.json > /dev/null
    $g logits -m model.gguf -d text.txt -o full32.h5 --format full --to-chunk 6 --json logits-full32.json > /dev/null
    $g logits -m model.gguf -d text.txt -o full16.h5 --precision 16 --to-chunk 6 --json logits-full16.json > /dev/null
    $g logits -m model.gguf -d text.txt -o compact.h5 --format compact --to-chunk 6 --json logits-compact.json > /dev/null
    $g logits -m model.gguf -d text.txt -o base.kld --format llamacpp --to-chunk 6 --json logits-llamacpp.json > /dev/null
    $g imatrix --model model.gguf --dataset text.txt --output imatrix.gguf --chunks 6 --json imatrix.json > /dev/null
    $g quantize --model model.gguf --types Q4_K_M,Q6_K --output-dir q --json quantize.json > /dev/null
    $g quantize --model model.gguf --types IQ2_XS --imatrix imatrix.gguf --output-dir qi --json quantize-imatrix.json > /dev/null
    $g kld --baseline-logits full32.h5 --target-model q/model-Q4_K_M.gguf --output-file cmp-full.h5 --json kld-full.json > /dev/null
    $g kld --baseline-logits compact.h5 --target-model q/model-Q6_K.gguf --output-file cmp-compact.h5 --json kld-compact.json > /dev/null
    $g kld --baseline-logits base.kld --target-model q/model-Q4_K_M.gguf --output-file cmp-kld.h5 --json kld-llamacpp.json > /dev/null
    $g kld --baseline-logits full16.h5 --target-logits full32.h5 --output-file cmp-logits.h5 --json kld-logits.json > /dev/null
    $g iterate --model model.gguf --dataset text.txt --calibration text.txt --subset-sizes 20,60 --types Q4_K_M \
        --eval-chunks 6 --resamples 200 --output it --json iterate.json > /dev/null
    $g report cmp-full.h5 > report.md
    $g report it/cmp/*.h5 --json report.json > /dev/null
    $g report it/cmp/*.h5 --output report > /dev/null
    } 2> stderr.txt
    cd "$work" && mv "$dir" "$result"
}

run_all "$old_cli" "$work/run" "$work/old"
run_all "$new_cli" "$work/run" "$work/new"

cd "$work/old" || exit 1
find . -type f ! -name stderr.txt ! -name model.gguf ! -name text.txt | sort | while read -r f; do
    if [ ! -f "../new/$f" ]; then echo "MISSING $f"; continue; fi
    if cmp -s "$f" "../new/$f"; then echo "same     $f"; continue; fi
    case "$f" in
        *.json|*.yaml|*.md|*.txt)
            if diff -q <(sed -E "s/$MASK/\"\1\": MASKED/g" "$f") <(sed -E "s/$MASK/\"\1\": MASKED/g" "../new/$f") > /dev/null
            then echo "same*    $f (after masking clock fields)"
            else echo "DIFFERS  $f"; fi ;;
        *) echo "DIFFERS  $f ($(cmp -l "$f" "../new/$f" 2>/dev/null | wc -l) bytes)";;
    esac
done
