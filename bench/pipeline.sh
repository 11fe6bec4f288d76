#!/usr/bin/env bash
# One-shot pipeline benchmark: simulate a night (bias, darks, flats, lights of SIZE), then time
# `darkroom run` three ways: the plan only (--dry-run: scan, hash, classify, group), the full run,
# and a re-run (every step reused). Prints seconds and the ratios to the full run. Then, when
# `siril-cli` is installed (Debian package siril), Siril 1.0 runs the equivalent script on the same
# frames (bias/dark/flat masters with winsorized stacking, calibration, registration, winsorized
# stacking with additive+scaling normalization) and both wall times, their ratio and peak memory
# (max RSS from /usr/bin/time) are printed.
#
#   bash bench/pipeline.sh [SIZE=1024x768] [LIGHTS=10] [CALS=10]
set -euo pipefail
SIZE=${1:-1024x768}
LIGHTS=${2:-10}
CALS=${3:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The built CLI (npm ci builds dist/), as a user runs it.
[ -f "$ROOT/dist/cli/main.js" ] || (cd "$ROOT" && npm run build >/dev/null)
DR=(node "$ROOT/bin/darkroom.js")
TMP=$(mktemp -d -t darkroom-bench-pipeline-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"
"${DR[@]}" simulate --out "$TMP/night" --size "$SIZE" --lights "$LIGHTS" --darks "$CALS" --bias "$CALS" --flats "$CALS" --exposure 120 --seed 3 >/dev/null
mv "$TMP/night/truth" "$TMP/truth"
N=$(find "$TMP/night" -iname '*.fits' | wc -l)
MB=$(du -sm "$TMP/night" | cut -f1)
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>"$TMP/log" || { cat "$TMP/log" >&2; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }
PLAN=$(t "${DR[@]}" run "$TMP/night" --out "$TMP/out" --dry-run --json)
FULL=$(t /usr/bin/time -f '%M' -o "$TMP/rss-darkroom" "${DR[@]}" run "$TMP/night" --out "$TMP/out" --json)
cp "$TMP/out/report.json" "$TMP/report-full.json"
RERUN=$(t "${DR[@]}" run "$TMP/night" --out "$TMP/out" --json)
echo "night: $N frames of $SIZE ($MB MB)"
printf 'plan (scan+classify+group): %6.2f s  %5.1f MB/s  ratio to full run %.3f\n' "$PLAN" "$(echo "$MB / $PLAN" | bc -l)" "$(echo "$PLAN / $FULL" | bc -l)"
printf 'full run:                   %6.2f s\n' "$FULL"
printf 're-run (all reused):        %6.2f s  ratio to full run %.3f\n' "$RERUN" "$(echo "$RERUN / $FULL" | bc -l)"
node -e 'const r=require(process.argv[1]);console.log("steps:",JSON.stringify(r.timing_s))' "$TMP/report-full.json" 2>/dev/null || true

if command -v siril-cli >/dev/null 2>&1; then
  S="$TMP/siril"
  mkdir -p "$S/bias" "$S/darks" "$S/flats" "$S/lights" "$S/process"
  for f in "$TMP"/night/Bias_*.fits; do ln -s "$f" "$S/bias/"; done
  for f in "$TMP"/night/Dark_*.fits; do ln -s "$f" "$S/darks/"; done
  for f in "$TMP"/night/Flat_*.fits; do ln -s "$f" "$S/flats/"; done
  for f in "$TMP"/night/Light_*.fits; do ln -s "$f" "$S/lights/"; done
  cp "$ROOT/bench/siril-night.ssf" "$S/night.ssf"
  SIRIL=$(t /usr/bin/time -f '%M' -o "$TMP/rss-siril" siril-cli -d "$S" -s "$S/night.ssf")
  printf 'siril 1.0 same night:       %6.2f s\n' "$SIRIL"
  printf 'ratio darkroom/siril (full run): %.2f\n' "$(echo "$FULL / $SIRIL" | bc -l)"
  printf 'peak RSS: darkroom %d MB, siril %d MB\n' "$(( $(tail -1 "$TMP/rss-darkroom") / 1024 ))" "$(( $(tail -1 "$TMP/rss-siril") / 1024 ))"
else
  echo "siril-cli not installed (apt-get install siril): no Siril comparison"
  printf 'peak RSS: darkroom %d MB\n' "$(( $(tail -1 "$TMP/rss-darkroom") / 1024 ))"
fi
