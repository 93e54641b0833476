#!/usr/bin/env bash
# Print up/down for each local server (nats, kafka or kafka-1 ... with KAFKA_NODES, mongo);
# exit 0 only if all requested servers answer.   scripts/infra/status.sh [nats|kafka|mongo ...]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

mapfile -t SERVICES < <(resolve_services "$@")
[[ ${#SERVICES[@]} -gt 0 ]] || exit 2

rc=0
for svc in "${SERVICES[@]}"; do
  port="$(svc_port "$svc")"
  if pid="$(svc_pid "$svc")"; then
    if svc_answers "$svc"; then
      state="up"; detail="pid $pid"
    else
      state="down"; detail="pid $pid running but not answering"; rc=1
    fi
  elif svc_answers "$svc"; then
    state="up"; detail="not started by these scripts"
  else
    state="down"; detail=""; rc=1
  fi
  printf '%-12s %-5s 127.0.0.1:%-6s %s\n' "$svc" "$state" "$port" "$detail"
done
echo "INFRA_DIR=$INFRA_DIR"
exit "$rc"
