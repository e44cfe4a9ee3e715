#!/usr/bin/env bash
# Builds llama.cpp's own tools (llama-perplexity, llama-imatrix, llama-quantize, llama-bench) natively from a
# source tree, for the side-by-side benchmark only (`dotnet run -c Release --project bench/GgufOptimize.Bench --
# native --llama-bin BUILD/bin`). Nothing in the product uses this build.
#
#   bench/native-llama/build.sh SOURCE_DIR BUILD_DIR [native|avx512-plain]
#
# native (default): compiled for this CPU (-march=native), as a user building llama.cpp on their own machine does.
# avx512-plain: the instruction set LLamaSharp.Backend.Cpu's avx512 variant reports (AVX, AVX2, FMA, F16C, AVX512F;
# no VNNI, VBMI or BF16), to separate "which CPU features" from "which llama.cpp version" in the engine's share.
#
# SOURCE_DIR: a llama.cpp checkout or snapshot (the figures in BENCHMARKS.md used ggerganov/llama.cpp at c392e509,
# 2025-02-20; its models/ folder is not needed). Needs cmake, ninja (or make) and a C++17 compiler.
set -euo pipefail
src=${1:?usage: build.sh SOURCE_DIR BUILD_DIR}
out=${2:?usage: build.sh SOURCE_DIR BUILD_DIR}
flavour=${3:-native}
[[ -f "$src/CMakeLists.txt" && -d "$src/examples/perplexity" ]] || { echo "build.sh: $src is not a llama.cpp source tree (no CMakeLists.txt or examples/perplexity)" >&2; exit 2; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
case "$flavour" in
  native) isa=(-DGGML_NATIVE=ON) ;;
  avx512-plain) isa=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON
                     -DGGML_AVX_VNNI=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF) ;;
  *) echo "build.sh: unknown flavour '$flavour' (native or avx512-plain)" >&2; exit 2 ;;
esac
cmake -S "$src" -B "$out" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "${isa[@]}" -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF
cmake --build "$out" -j "$(nproc)" --target llama-perplexity llama-imatrix llama-quantize llama-bench
echo "built: $out/bin"
