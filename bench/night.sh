#!/usr/bin/env bash
# The nights of the speed issue, Darkroom against Siril 1.0 in the same run: simulate a night with
# our camera simulator (bias, darks, flats, lights), run `darkroom run` (the built CLI, dist/) and
# the equivalent siril-cli script (winsorized masters, calibration, registration, winsorized
# stacking with additive+scaling normalization) on the same frames, and print wall time and peak
# RSS (/usr/bin/time) of each, the ratio darkroom/siril and Darkroom's time per step.
#
#   bash bench/night.sh small            1536x1024, 8 lights + 38 calibration frames
#   bash bench/night.sh large24          4096x2732, 24 lights + 68 calibration frames (2 GB)
#   bash bench/night.sh large96          4096x2732, 96 lights + 68 calibration frames
#   bash bench/night.sh all              the three, one after the other
#   bash bench/night.sh SIZE LIGHTS BIAS DARKS FLATS   any other night
# BENCH_TMP=DIR puts the nights there (default: a temp folder, removed at the end); with BENCH_KEEP=1 they
# stay, and BENCH_REUSE=1 then runs both tools again on a night simulated before with the same parameters.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$ROOT/dist/cli/main.js" ] || (cd "$ROOT" && npm run build >/dev/null)
command -v siril-cli >/dev/null || { echo "siril-cli not installed (apt-get install siril)" >&2; exit 2; }
DR=(node "$ROOT/bin/darkroom.js")
TMP=${BENCH_TMP:-$(mktemp -d -t darkroom-bench-night-XXXXXX)}
mkdir -p "$TMP"
[ -n "${BENCH_TMP:-}" ] || trap 'rm -rf "$TMP"' EXIT

# wall seconds and peak RSS (MB) of a command: "SECONDS MB"
measure() {
  local log=$1; shift
  /usr/bin/time -f '%e %M' -o "$log.time" "$@" >"$log" 2>&1 || { tail -20 "$log" >&2; return 1; }
  awk '{ printf "%s %d\n", $1, $2 / 1024 }' "$log.time"
}

warm() {
  find "$1" -type f -iname '*.fits' -exec cat {} + >/dev/null
}

siril_script() {
  cat "$ROOT/bench/siril-night.ssf"
}

night() {
  local name=$1 size=$2 lights=$3 bias=$4 darks=$5 flats=$6
  local d="$TMP/$name"
  local spec="$size $lights $bias $darks $flats seed 3"
  if [ -n "${BENCH_REUSE:-}" ] && [ "$(cat "$d/night.spec" 2>/dev/null)" = "$spec" ]; then
    # BENCH_REUSE=1 (with BENCH_TMP): the night simulated by an earlier run with the same parameters
    rm -rf "$d/out" "$d/siril"
  else
    rm -rf "$d"; mkdir -p "$d"
    "${DR[@]}" simulate --out "$d/night" --size "$size" --lights "$lights" --bias "$bias" --darks "$darks" --flats "$flats" --exposure 120 --seed 3 >/dev/null
    rm -rf "$d/night/truth"
    echo "$spec" >"$d/night.spec"
  fi
  local n mb
  n=$(find "$d/night" -iname '*.fits' | wc -l)
  mb=$(du -sm "$d/night" | cut -f1)
  local S="$d/siril"
  mkdir -p "$S/bias" "$S/darks" "$S/flats" "$S/lights" "$S/process"
  for f in "$d"/night/Bias_*.fits; do ln -s "$f" "$S/bias/"; done
  for f in "$d"/night/Dark_*.fits; do ln -s "$f" "$S/darks/"; done
  for f in "$d"/night/Flat_*.fits; do ln -s "$f" "$S/flats/"; done
  for f in "$d"/night/Light_*.fits; do ln -s "$f" "$S/lights/"; done
  siril_script >"$S/night.ssf"
  local dr si
  # Both tools start on a warm page cache (the night read once just before each), so neither pays for the disk
  # reads of the other's first pass.
  warm "$d/night"
  dr=$(measure "$d/darkroom.log" "${DR[@]}" run "$d/night" --out "$d/out" --json)
  warm "$d/night"
  si=$(measure "$d/siril.log" siril-cli -d "$S" -s "$S/night.ssf")
  set -- $dr $si
  printf '%-8s %s, %3d lights, %3d frames (%5d MB): darkroom %7.1f s %5d MB | siril %7.1f s %5d MB | ratio %.2f\n' \
    "$name" "$size" "$lights" "$n" "$mb" "$1" "$2" "$3" "$4" "$(echo "$1 / $3" | bc -l)"
  node -e 'const r=require(process.argv[1]);console.log("         darkroom steps (s):",JSON.stringify(r.timing_s))' "$d/out/report.json" 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$d"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%d GB", $2 / 1048576 }' /proc/meminfo), $(siril-cli --version 2>/dev/null | head -1), node $(node --version), $(date -u +%F)"
case "${1:-small}" in
  small) night small 1536x1024 8 12 13 13 ;;
  large24) night large24 4096x2732 24 22 23 23 ;;
  large96) night large96 4096x2732 96 22 23 23 ;;
  all)
    night small 1536x1024 8 12 13 13
    night large24 4096x2732 24 22 23 23
    night large96 4096x2732 96 22 23 23
    ;;
  *) night custom "$1" "${2:-10}" "${3:-10}" "${4:-10}" "${5:-10}" ;;
esac
