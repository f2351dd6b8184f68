#!/usr/bin/env bash
# Measures how long `npm install && npm start` takes on a fresh clone until the ready line.
#   bench/startup.sh cold   # empty provisioning, Go and npm caches: includes the Go build of the Temporal CLI
#   bench/startup.sh warm   # caches as they are (the usual second start)
# Each run clones HEAD into a temp dir, times install and start, then stops the stack with SIGINT
# and times the shutdown too. Results are appended to bench/results/startup.md.
set -euo pipefail
mode=${1:-warm}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/closetflow-startup-XXXX)
git clone -q "$repo" "$work/clone"
cd "$work/clone"
if [ "$mode" = cold ]; then
  export CLOSETFLOW_CACHE_DIR="$work/cache" GOCACHE="$work/gocache" GOMODCACHE="$work/gomod" npm_config_cache="$work/npm-cache"
fi
t0=$(date +%s.%N)
npm install --no-audit --no-fund >"$work/install.log" 2>&1
t1=$(date +%s.%N)
# Its own process group, so the SIGINT below reaches npm, the launcher and nothing else.
setsid npm start >"$work/start.log" 2>&1 &
pid=$!
until grep -q "closetflow is ready" "$work/start.log"; do
  if ! kill -0 $pid 2>/dev/null; then echo "npm start died:"; tail -40 "$work/start.log"; exit 1; fi
  sleep 0.5
done
t2=$(date +%s.%N)
# Ctrl-C sends SIGINT to the terminal's whole process group; do the same.
kill -INT -- -$pid
wait $pid || true
t3=$(date +%s.%N)
install=$(echo "$t1 - $t0" | bc); start=$(echo "$t2 - $t1" | bc); stop=$(echo "$t3 - $t2" | bc)
mkdir -p "$repo/bench/results"
line="| $(date -u +%F) | $mode | $(git rev-parse --short HEAD) | ${install%.*} s | ${start%.*} s | ${stop%.*} s |"
[ -f "$repo/bench/results/startup.md" ] || printf '| date | mode | commit | npm install | npm start → ready | Ctrl-C → exit |\n|---|---|---|---|---|---|\n' >"$repo/bench/results/startup.md"
echo "$line" >>"$repo/bench/results/startup.md"
echo "$line"
rm -rf "$work"
