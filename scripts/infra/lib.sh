# shellcheck shell=bash
# shellcheck disable=SC2034,SC2016 # variables are used by the sourcing scripts; single-quoted code is run by bash -c / node
# Shared helpers for scripts/infra/{up,down,status}.sh. Sourced, not executed.
#
# Servers managed: nats (NATS, Debian package), kafka (Apache Kafka, KRaft, jars
# from Maven Central: one node, or with KAFKA_NODES=3 a cluster of brokers kafka-1,
# kafka-2, kafka-3), mongo (FerretDB v1 + SQLite, built with Go), mailpit (SMTP sink
# with an HTTP API, Go), stripe-mock (Stripe's API mock, Go), jaeger (trace collector and
# UI, Go), prometheus (Debian package, with promtool).
# Everything listens on 127.0.0.1 only.

# ---------------------------------------------------------------- settings
INFRA_DIR="$(realpath -m "${INFRA_DIR:-$PWD/.infra}")"
SHOP_CACHE="$(realpath -m "${SHOP_CACHE:-$HOME/.cache/shop}")"

NATS_PORT="${NATS_PORT:-4222}"
NATS_MONITOR_PORT="${NATS_MONITOR_PORT:-8222}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
MONGO_PORT="${MONGO_PORT:-27017}"
FERRETDB_DEBUG_PORT="${FERRETDB_DEBUG_PORT:-8088}"
MAILPIT_SMTP_PORT="${MAILPIT_SMTP_PORT:-1025}"
MAILPIT_HTTP_PORT="${MAILPIT_HTTP_PORT:-8025}"
STRIPE_MOCK_PORT="${STRIPE_MOCK_PORT:-12111}"
STRIPE_MOCK_HTTPS_PORT="${STRIPE_MOCK_HTTPS_PORT:-12112}"
JAEGER_UI_PORT="${JAEGER_UI_PORT:-16686}"
JAEGER_OTLP_GRPC_PORT="${JAEGER_OTLP_GRPC_PORT:-4317}"
JAEGER_OTLP_HTTP_PORT="${JAEGER_OTLP_HTTP_PORT:-4318}"
JAEGER_ZIPKIN_PORT="${JAEGER_ZIPKIN_PORT:-9411}"
JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-16685}"
JAEGER_HEALTH_PORT="${JAEGER_HEALTH_PORT:-13133}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_SLF4J_VERSION="${KAFKA_SLF4J_VERSION:-2.0.17}"
KAFKA_LOG4J_VERSION="${KAFKA_LOG4J_VERSION:-2.25.5}" # same as log4j-core that kafka-server pulls in
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
KAFKA_AUTO_CREATE_TOPICS="${KAFKA_AUTO_CREATE_TOPICS:-true}"
KAFKA_NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-3}"
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
MAILPIT_VERSION="${MAILPIT_VERSION:-v1.33.1}"
STRIPE_MOCK_VERSION="${STRIPE_MOCK_VERSION:-v0.203.0}"
JAEGER_VERSION="${JAEGER_VERSION:-v1.75.0}"
# 1: one broker (`kafka`, the default, right for a 2-core machine). More: a KRaft cluster of
# that many brokers, each broker and controller in one process, `kafka-1` ... `kafka-N`;
# broker i listens on KAFKA_PORT + 2(i-1), its controller on KAFKA_CONTROLLER_PORT + 2(i-1)
# (9092/9093, 9094/9095, 9096/9097), and topics get replication factor min(N, 3) and
# min.insync.replicas 2 (1 with two brokers).
KAFKA_NODES="${KAFKA_NODES:-1}"
FERRETDB_LOG_LEVEL="${FERRETDB_LOG_LEVEL:-info}"

# Bounded waits (seconds).
NATS_START_TIMEOUT="${NATS_START_TIMEOUT:-30}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
MONGO_START_TIMEOUT="${MONGO_START_TIMEOUT:-60}"
STOP_TIMEOUT="${STOP_TIMEOUT:-30}"
KAFKA_FETCH_TIMEOUT="${KAFKA_FETCH_TIMEOUT:-600}"
FERRETDB_BUILD_TIMEOUT="${FERRETDB_BUILD_TIMEOUT:-600}"
APT_TIMEOUT="${APT_TIMEOUT:-600}"
GO_BUILD_TIMEOUT="${GO_BUILD_TIMEOUT:-900}"
TOOL_START_TIMEOUT="${TOOL_START_TIMEOUT:-60}"

# The servers the cluster itself needs, and the ones its edges and its operators use.
CORE_SERVICES=(nats kafka mongo)
EDGE_SERVICES=(mailpit stripe-mock jaeger prometheus)
ALL_SERVICES=("${CORE_SERVICES[@]}" "${EDGE_SERVICES[@]}")

# The Kafka processes: `kafka` alone, or kafka-1 ... kafka-N.
kafka_members() {
  local i
  if [[ "$KAFKA_NODES" -le 1 ]]; then echo kafka; return 0; fi
  for ((i = 1; i <= KAFKA_NODES; i++)); do echo "kafka-$i"; done
}
# kafka_index SVC: 1 for `kafka`, i for `kafka-i`.
kafka_index() { if [[ "$1" == kafka ]]; then echo 1; else echo "${1#kafka-}"; fi; }
kafka_port_of() { echo $((KAFKA_PORT + 2 * ($(kafka_index "$1") - 1))); }
kafka_controller_port_of() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($(kafka_index "$1") - 1))); }
# Replication of the cluster: factor min(N, 3), min.insync.replicas 2 from three brokers on.
kafka_replication() { if [[ "$KAFKA_NODES" -ge 3 ]]; then echo 3; else echo "$KAFKA_NODES"; fi; }
kafka_min_isr() { if [[ "$KAFKA_NODES" -ge 3 ]]; then echo 2; else echo 1; fi; }
# Bootstrap servers of every broker, comma-separated.
kafka_bootstrap() {
  local m out=()
  for m in $(kafka_members); do out+=("127.0.0.1:$(kafka_port_of "$m")"); done
  (IFS=,; echo "${out[*]}")
}

KAFKA_LIBS="$SHOP_CACHE/kafka-$KAFKA_VERSION/libs"
FERRETDB_BIN="$SHOP_CACHE/bin/ferretdb-$FERRETDB_VERSION"
MAILPIT_BIN="$SHOP_CACHE/bin/mailpit-$MAILPIT_VERSION"
STRIPE_MOCK_BIN="$SHOP_CACHE/bin/stripe-mock-$STRIPE_MOCK_VERSION"
JAEGER_BIN="$SHOP_CACHE/bin/jaeger-$JAEGER_VERSION"
# The repository (for ops/prometheus/alerts.yml).
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# ---------------------------------------------------------------- output
# Progress goes to stderr so that stdout of up.sh carries only the exports.
log()  { printf '[infra] %s\n' "$*" >&2; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&2; }
err()  { printf '[infra] ERROR: %s\n' "$*" >&2; }

# show_log_tail FILE [LINES]
show_log_tail() {
  local f="$1" n="${2:-40}"
  if [[ -s "$f" ]]; then
    printf '[infra] ---- last %s lines of %s ----\n' "$n" "$f" >&2
    tail -n "$n" "$f" | sed 's/^/[infra] | /' >&2
    printf '[infra] ---- end of %s ----\n' "$f" >&2
  else
    printf '[infra] (log %s is empty or missing)\n' "$f" >&2
  fi
}

# svc_log_tail SVC [LINES]: tail of the service log, only since its last start.
svc_log_tail() {
  local svc="$1" n="${2:-40}" f tmp
  f="$(svc_logfile "$svc")"
  if [[ ! -s "$f" ]]; then show_log_tail "$f" "$n"; return 0; fi
  tmp="$(mktemp)"
  tac "$f" | sed "/^===== .*: starting $svc =====\$/q" | tac >"$tmp"
  printf '[infra] ---- %s: last %s log lines since its last start (%s) ----\n' "$svc" "$n" "$f" >&2
  tail -n "$n" "$tmp" | sed 's/^/[infra] | /' >&2
  printf '[infra] ---- end of log ----\n' >&2
  rm -f "$tmp"
}

# Expand "all"/"" to the service list; validate names; accept "ferretdb" for mongo.
resolve_services() {
  local s out=()
  if [[ $# -eq 0 ]]; then
    printf '%s\n' nats $(kafka_members) mongo "${EDGE_SERVICES[@]}"
    return 0
  fi
  for s in "$@"; do
    case "$s" in
      all) out+=(nats $(kafka_members) mongo "${EDGE_SERVICES[@]}") ;;
      core) out+=(nats $(kafka_members) mongo) ;;
      edge) out+=("${EDGE_SERVICES[@]}") ;;
      nats|mongo|mailpit|stripe-mock|jaeger|prometheus) out+=("$s") ;;
      kafka) out+=($(kafka_members)) ;;
      kafka-[0-9]*)
        if [[ "$KAFKA_NODES" -le 1 || "${s#kafka-}" -lt 1 || "${s#kafka-}" -gt "$KAFKA_NODES" ]]; then
          err "unknown server '$s' (KAFKA_NODES=$KAFKA_NODES: the brokers are $(kafka_members | tr '\n' ' '))"; return 2
        fi
        out+=("$s") ;;
      ferretdb|mongodb) out+=(mongo) ;;
      *) err "unknown server '$s' (known: nats kafka mongo mailpit stripe-mock jaeger prometheus, kafka-1 ... with KAFKA_NODES > 1, core, edge or all)"; return 2 ;;
    esac
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

svc_dir()     { printf '%s/%s' "$INFRA_DIR" "$1"; }
svc_pidfile() { printf '%s/%s/%s.pid' "$INFRA_DIR" "$1" "$1"; }
svc_logfile() { printf '%s/%s/%s.log' "$INFRA_DIR" "$1" "$1"; }
svc_port() {
  case "$1" in
    nats) echo "$NATS_PORT" ;;
    kafka|kafka-*) kafka_port_of "$1" ;;
    mongo) echo "$MONGO_PORT" ;;
    mailpit) echo "$MAILPIT_SMTP_PORT" ;;
    stripe-mock) echo "$STRIPE_MOCK_PORT" ;;
    jaeger) echo "$JAEGER_UI_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
  esac
}

# A string that must appear in /proc/PID/cmdline for the pid to be ours.
svc_marker() {
  case "$1" in
    nats) echo "$INFRA_DIR/nats/nats.conf" ;;
    kafka|kafka-*) echo "$INFRA_DIR/$1/server.properties" ;;
    mongo) echo "--sqlite-url=file:$INFRA_DIR/mongo/data/" ;;
    mailpit) echo "$INFRA_DIR/mailpit/mailpit.db" ;;
    stripe-mock) echo "127.0.0.1:$STRIPE_MOCK_PORT" ;;
    jaeger) echo "$INFRA_DIR/jaeger/jaeger.yaml" ;;
    prometheus) echo "$INFRA_DIR/prometheus/prometheus.yml" ;;
  esac
}

# ---------------------------------------------------------------- processes
# Prints the pid of our running server, or returns 1.
svc_pid() {
  local svc="$1" pidfile pid
  pidfile="$(svc_pidfile "$svc")"
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the command line must name our config/data path.
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(svc_marker "$svc")" || return 1
  fi
  echo "$pid"
}

# Something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  local port="$1"
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

# Print the listener(s) on a port (for error messages).
who_listens() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -ltnpH "sport = :$1" 2>/dev/null | sed 's/^/[infra]   /' >&2 || true
}

# ---------------------------------------------------------------- health checks
# NATS: the server greets every client with an INFO line.
nats_answers() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    [[ "$line" == INFO* ]]' _ "$NATS_PORT" 2>/dev/null
}

# Kafka: a metadata request through kcat lists our broker (KAFKA SVC: kafka or kafka-i).
kafka_answers() {
  local svc="${1:-kafka}" port
  port="$(kafka_port_of "$svc")"
  if command -v kcat >/dev/null 2>&1; then
    timeout 10 kcat -b "127.0.0.1:$port" -L -m 5 2>/dev/null | grep -q "broker $(kafka_index "$svc") at "
  else
    # Fallback without kcat: the port accepts and the log says the server started.
    port_open "$port" &&
      tac "$(svc_logfile "$svc")" 2>/dev/null | sed "/===== .*starting $svc =====/q" | grep -q 'Kafka Server started'
  fi
}

# A cluster of KAFKA_NODES brokers: the metadata lists every one of them.
kafka_cluster_formed() {
  command -v kcat >/dev/null 2>&1 || return 0
  local n
  n="$(timeout 10 kcat -b "$(kafka_bootstrap)" -L -m 5 2>/dev/null | grep -c 'broker [0-9]* at ' || true)"
  [[ "$n" -ge "$KAFKA_NODES" ]]
}

# MongoDB wire protocol: send OP_MSG {ping: 1, $db: "admin"} and expect ok: 1.
# Written for Node (always present in this project); no driver needed.
MONGO_PING_JS='
const net = require("net");
const host = process.env.PING_HOST || "127.0.0.1";
const port = Number(process.env.PING_PORT || 27017);
const fail = (m) => { process.stderr.write("mongo ping: " + m + "\n"); process.exit(1); };
const cstr = (s) => Buffer.from(s + "\0", "utf8");
const i32 = (n) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
const str = (s) => { const c = cstr(s); return Buffer.concat([i32(c.length), c]); };
const body = Buffer.concat([
  Buffer.from([0x10]), cstr("ping"), i32(1),
  Buffer.from([0x02]), cstr("$db"), str("admin"),
]);
const doc = Buffer.concat([i32(body.length + 5), body, Buffer.from([0])]);
const payload = Buffer.concat([i32(0) /* flags */, Buffer.from([0]) /* kind 0 */, doc]);
const header = Buffer.concat([i32(16 + payload.length), i32(4242), i32(0), i32(2013)]);
const sock = net.connect({ host, port });
const timer = setTimeout(() => { sock.destroy(); fail("timeout"); }, 3000);
let buf = Buffer.alloc(0);
sock.on("connect", () => sock.write(Buffer.concat([header, payload])));
sock.on("error", (e) => { clearTimeout(timer); fail(e.message); });
sock.on("data", (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
  clearTimeout(timer); sock.destroy();
  if (buf.readInt32LE(12) !== 2013) fail("unexpected opCode " + buf.readInt32LE(12));
  let p = 16 + 4; // header + flagBits
  if (buf[p] !== 0) fail("unexpected section kind"); p += 1;
  const end = p + buf.readInt32LE(p) - 1; p += 4;
  const skip = { 1: 8, 7: 12, 8: 1, 9: 8, 10: 0, 16: 4, 17: 8, 18: 8, 19: 16, 127: 0, 255: 0 };
  while (p < end) {
    const t = buf[p++]; const z = buf.indexOf(0, p); const name = buf.toString("utf8", p, z); p = z + 1;
    let v = null, len;
    if (t === 1) v = buf.readDoubleLE(p); else if (t === 16) v = buf.readInt32LE(p);
    if (name === "ok") { if (v === 1) process.exit(0); fail("ok=" + v); }
    if (t in skip) len = skip[t];
    else if (t === 2 || t === 13 || t === 14) len = 4 + buf.readInt32LE(p);
    else if (t === 3 || t === 4) len = buf.readInt32LE(p);
    else if (t === 5) len = 5 + buf.readInt32LE(p);
    else fail("cannot parse BSON type " + t);
    p += len;
  }
  fail("no ok field in reply");
});
'

mongo_answers() {
  if command -v node >/dev/null 2>&1; then
    PING_HOST=127.0.0.1 PING_PORT="$MONGO_PORT" timeout 10 node -e "$MONGO_PING_JS" 2>/dev/null
  else
    # Fallback without node: port accepts and FerretDB's liveness probe says 200.
    port_open "$MONGO_PORT" && timeout 3 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "GET /debug/livez HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
      IFS= read -r -t 2 line <&3 || exit 1
      [[ "$line" == *" 200 "* ]]' _ "$FERRETDB_DEBUG_PORT" 2>/dev/null
  fi
}

# http_ok PORT PATH [HEADER]: a GET on 127.0.0.1:PORT answers 2xx.
http_ok() {
  local port="$1" path="$2" header="${3:-}" code
  command -v curl >/dev/null 2>&1 || { port_open "$port"; return; }
  code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' ${header:+-H "$header"} "http://127.0.0.1:$port$path" 2>/dev/null)" || return 1
  [[ "$code" == 2* ]]
}

svc_answers() {
  case "$1" in
    nats) nats_answers ;;
    kafka|kafka-*) kafka_answers "$1" ;;
    mongo) mongo_answers ;;
    mailpit) port_open "$MAILPIT_SMTP_PORT" && http_ok "$MAILPIT_HTTP_PORT" /api/v1/info ;;
    stripe-mock) http_ok "$STRIPE_MOCK_PORT" /v1/customers "Authorization: Bearer sk_test_123" ;;
    jaeger) http_ok "$JAEGER_UI_PORT" /api/services && port_open "$JAEGER_OTLP_HTTP_PORT" ;;
    prometheus) http_ok "$PROMETHEUS_PORT" /-/ready ;;
  esac
}

# ---------------------------------------------------------------- locking
# take_lock FD FILE SECONDS: exclusive lock held on fd FD (7, 8 or 9) until exit.
take_lock() {
  local fd="$1" file="$2" secs="$3"
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$(dirname "$file")"
  eval "exec $fd>\"\$file\""
  if ! flock -w "$secs" "$fd"; then
    err "could not get lock $file within ${secs}s (another up.sh/down.sh running?)"
    return 1
  fi
}

# ---------------------------------------------------------------- stopping
# stop_svc SVC: TERM, bounded wait, then KILL. Keeps data.
stop_svc() {
  local svc="$1" pid pidfile i
  pidfile="$(svc_pidfile "$svc")"
  if ! pid="$(svc_pid "$svc")"; then
    if [[ -f "$pidfile" ]]; then
      log "$svc: not running (removing stale pid file)"
      rm -f "$pidfile"
    else
      log "$svc: not running"
    fi
    if port_open "$(svc_port "$svc")"; then
      warn "$svc: port $(svc_port "$svc") is still answering, but not by a process these scripts started; left alone"
      who_listens "$(svc_port "$svc")"
    fi
    return 0
  fi
  log "$svc: stopping pid $pid (SIGTERM, up to ${STOP_TIMEOUT}s)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$svc: pid $pid still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      err "$svc: pid $pid survived SIGKILL"
      return 1
    fi
  fi
  rm -f "$pidfile"
  log "$svc: stopped"
}
