#!/usr/bin/env bash
# Wall time of a distributed run (darkroom run --executor redis://...) with 1, 2 and 4 workers on
# this machine, and the speed-up over 1 worker. The same simulated night each time (--force).
# Usage: bench/distributed.sh [WIDTH HEIGHT LIGHTS]   (default 1024 768 16)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-1024}; H=${2:-768}; N=${3:-16}
TMP=$(mktemp -d /tmp/darkroom-bench-dist.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
DR=(node --import tsx src/cli/run.ts)
PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >"$TMP/redis.log" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
cat >"$TMP/sim.ts" <<TS
import { simulateSession } from '$PWD/src/devices/sim/index.js';
simulateSession('$TMP/night', { width: $W, height: $H, lights: $N, darks: 5, bias: 5, flats: 5, dither: 3, lightExposure: 60, seed: 3, starCount: 120, object: 'BENCH', filter: 'L' });
TS
node --import tsx "$TMP/sim.ts"; rm -rf "$TMP/night/truth"
echo "night: ${N} lights ${W}x${H} (+ 5 bias, 5 darks, 5 flats); $(nproc) CPU core(s)"
declare -A T
for n in 1 2 4; do
  WP=()
  for i in $(seq "$n"); do "${DR[@]}" worker --redis "redis://127.0.0.1:$PORT?queue=b$n" --quiet >"$TMP/w$n-$i.log" 2>&1 & WP+=($!); PIDS+=($!); done
  for _ in $(seq 100); do [ "$(grep -l ': ready on ' "$TMP"/w$n-*.log 2>/dev/null | wc -l)" -ge "$n" ] && break; sleep 0.2; done
  t0=$(date +%s.%N)
  "${DR[@]}" run "$TMP/night" --out "$TMP/out$n" --force --executor "redis://127.0.0.1:$PORT?queue=b$n" >"$TMP/run$n.log" 2>&1
  t1=$(date +%s.%N)
  T[$n]=$(echo "$t1 - $t0" | bc -l)
  printf '%d worker(s): %6.2f s\n' "$n" "${T[$n]}"
  for p in "${WP[@]}"; do kill "$p"; done
done
for n in 2 4; do printf 'speed-up %d workers vs 1: %.2fx\n' "$n" "$(echo "${T[1]} / ${T[$n]}" | bc -l)"; done
if cmp -s <(node --import tsx -e "import('$PWD/src/fits/index.js').then(m=>process.stdout.write(Buffer.from(m.readFits('$TMP/out1/stacks/BENCH_L.fits').data[0].buffer)))") \
          <(node --import tsx -e "import('$PWD/src/fits/index.js').then(m=>process.stdout.write(Buffer.from(m.readFits('$TMP/out4/stacks/BENCH_L.fits').data[0].buffer)))"); then
  echo "stacks with 1 and 4 workers: pixel data identical"
else
  echo "stacks with 1 and 4 workers: pixel data DIFFER"; exit 1
fi
