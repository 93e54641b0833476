#!/usr/bin/env bash
# Stop the local infrastructure started by scripts/infra/up.sh.
#
#   scripts/infra/down.sh               # stop nats, kafka and mongo (data kept)
#   scripts/infra/down.sh kafka         # stop only Kafka (data kept: up.sh kafka resumes it)
#   scripts/infra/down.sh --wipe        # stop all and delete their data/logs in INFRA_DIR
#   scripts/infra/down.sh --wipe kafka  # stop Kafka and delete only its data
#   KAFKA_NODES=3 scripts/infra/down.sh kafka-2   # stop one broker of a Kafka cluster
#
# Stops by pid file: SIGTERM, then SIGKILL after ${STOP_TIMEOUT:-30}s.
# Never touches a process it did not start, nor the download cache.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

WIPE=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --wipe) WIPE=1 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$a") ;;
  esac
done
mapfile -t SERVICES < <(resolve_services "${ARGS[@]}")
[[ ${#SERVICES[@]} -gt 0 ]] || exit 2

if [[ ! -d "$INFRA_DIR" ]]; then
  log "nothing to stop: $INFRA_DIR does not exist"
  exit 0
fi
take_lock 9 "$INFRA_DIR/.lock" 900

rc=0
for svc in "${SERVICES[@]}"; do
  stop_svc "$svc" || rc=1
done

if [[ $WIPE -eq 1 ]]; then
  if [[ $rc -ne 0 ]]; then
    err "not wiping: some server did not stop"
    exit 1
  fi
  case "$INFRA_DIR" in
    /|"$HOME"|"$HOME/") err "refusing to wipe INFRA_DIR=$INFRA_DIR"; exit 1 ;;
  esac
  for svc in "${SERVICES[@]}"; do
    if [[ -d "$INFRA_DIR/$svc" ]]; then
      rm -rf -- "${INFRA_DIR:?}/$svc"
      log "$svc: wiped $INFRA_DIR/$svc"
    fi
  done
  # A Kafka cluster's id goes with its last broker.
  if [[ -f "$INFRA_DIR/kafka-cluster.id" && -z "$(find "$INFRA_DIR" -mindepth 1 -maxdepth 1 -name 'kafka-*' -type d -print -quit)" ]]; then
    rm -f -- "$INFRA_DIR/kafka-cluster.id"
  fi
  # Remove INFRA_DIR itself once nothing of ours is left in it.
  if [[ -z "$(find "$INFRA_DIR" -mindepth 1 -maxdepth 1 ! -name .lock ! -name apt.log -print -quit)" ]]; then
    rm -f -- "$INFRA_DIR/.lock" "$INFRA_DIR/apt.log"
    rmdir -- "$INFRA_DIR" 2>/dev/null || true
  fi
fi
exit "$rc"
