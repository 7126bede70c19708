#!/usr/bin/env bash
# Run refundledger beyond one process, on this machine (loopback only):
# a three-node NATS JetStream cluster (streams replicated R3) and two
# refundledger nodes, each an ingester, a projection and an admin API. Either
# node takes callbacks; each folds the whole stream into its own Pebble; the
# relay publishes each fact once whichever node gets there first.
#
#   deploy/local-cluster.sh            start, print the addresses, Ctrl-C stops all
#   DATA=/tmp/rl deploy/local-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-./data/cluster}
mkdir -p "$DATA" bin
go build -o bin/refundledger ./cmd/refundledger
go build -o bin/nats-server github.com/nats-io/nats-server/v2

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

for n in 1 2 3; do
  bin/nats-server -c "deploy/nats/node$n.conf" -sd "$DATA/nats$n" >"$DATA/nats$n.log" 2>&1 &
  pids+=($!)
done
echo -n "waiting for the JetStream cluster"
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:8301/healthz?js-enabled-only=true" >/dev/null 2>&1 &&
     curl -sf "http://127.0.0.1:8302/healthz?js-enabled-only=true" >/dev/null 2>&1 &&
     curl -sf "http://127.0.0.1:8303/healthz?js-enabled-only=true" >/dev/null 2>&1; then
    break
  fi
  echo -n .; sleep 0.2
done
echo

NATS=nats://127.0.0.1:4301,nats://127.0.0.1:4302,nats://127.0.0.1:4303
for n in 1 2; do
  bin/refundledger serve --data "$DATA/node$n" --nats "$NATS" --replicas 3 \
    --listen "127.0.0.1:8${n}80" --admin-listen "127.0.0.1:8${n}81" >"$DATA/node$n.log" 2>&1 &
  pids+=($!)
done
# A new cluster elects a leader for each replicated stream; on a small
# machine that can take a minute, and the nodes log "waiting for JetStream".
echo -n "waiting for the refundledger nodes"
for n in 1 2; do
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:8${n}81/readyz" >/dev/null 2>&1 && break
    echo -n .; sleep 0.3
  done
done
echo
cat <<MSG
refundledger cluster on loopback (logs in $DATA/*.log)
  nats       $NATS
  node 1     callbacks http://127.0.0.1:8180/callbacks/xportcn   admin http://127.0.0.1:8181/v1/status
  node 2     callbacks http://127.0.0.1:8280/callbacks/xportcn   admin http://127.0.0.1:8281/v1/status
try:
  bin/refundledger gen --orders 200 --post http://127.0.0.1:8180/callbacks/xportcn
  bin/refundledger report --admin http://127.0.0.1:8281
Ctrl-C stops everything.
MSG
wait
