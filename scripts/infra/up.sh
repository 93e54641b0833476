#!/usr/bin/env bash
# Start the local infrastructure on 127.0.0.1: the cluster's servers (NATS, Kafka, FerretDB)
# and the ones its edges use (Mailpit, stripe-mock, Jaeger, Prometheus).
#
#   scripts/infra/up.sh              # all seven
#   scripts/infra/up.sh core         # NATS, Kafka and FerretDB; `edge` the other four
#   scripts/infra/up.sh kafka        # only Kafka (also: nats, mongo/ferretdb, mailpit, stripe-mock, jaeger, prometheus)
#   KAFKA_NODES=3 scripts/infra/up.sh          # Kafka as a 3-broker KRaft cluster
#   KAFKA_NODES=3 scripts/infra/up.sh kafka-2  # one broker of it (after it was stopped)
#   eval "$(scripts/infra/up.sh)"    # progress goes to stderr, exports to stdout
#
# Idempotent: a server that already answers is left alone. Installs what is
# missing (apt packages, Kafka jars via Maven, FerretDB, Mailpit, stripe-mock, Jaeger via Go) into
# ${SHOP_CACHE:-$HOME/.cache/shop}; state (pid files, logs, data) lives in
# ${INFRA_DIR:-$PWD/.infra}. Exits non-zero, naming what failed, if any server
# does not answer within its timeout.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

case "${1:-}" in
  -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

mapfile -t SERVICES < <(resolve_services "$@")
[[ ${#SERVICES[@]} -gt 0 ]] || exit 2

mkdir -p "$INFRA_DIR" "$SHOP_CACHE"
take_lock 9 "$INFRA_DIR/.lock" 900

# ---------------------------------------------------------------- installs
APT_UPDATED=0
APT_LOG="$INFRA_DIR/apt.log"
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else err "need root (or sudo) to run: $*"; return 1
  fi
}

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    err "apt-get not found; please install these packages yourself: $*"
    return 1
  fi
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update (output: $APT_LOG)"
    as_root env DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" apt-get update -q >>"$APT_LOG" 2>&1 || {
      err "apt-get update failed"; show_log_tail "$APT_LOG" 20; return 1; }
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" \
    apt-get install -y -q --no-install-recommends "$@" >>"$APT_LOG" 2>&1 </dev/null || {
    err "apt-get install $* failed"; show_log_tail "$APT_LOG" 20; return 1; }
}

find_nats_server() {
  command -v nats-server 2>/dev/null && return 0
  [[ -x /usr/sbin/nats-server ]] && { echo /usr/sbin/nats-server; return 0; }
  return 1
}

# Install every missing apt package for the selected servers in one go.
ensure_apt_packages() {
  local want=() svc
  for svc in "${SERVICES[@]}"; do
    case "$svc" in
      nats) find_nats_server >/dev/null || want+=(nats-server) ;;
      kafka|kafka-*)
        command -v kcat >/dev/null 2>&1 || want+=(kcat)
        command -v "${JAVA_HOME:+$JAVA_HOME/bin/}java" >/dev/null 2>&1 || want+=(openjdk-17-jre-headless)
        command -v mvn >/dev/null 2>&1 || want+=(maven)
        ;;
      prometheus) { command -v prometheus && command -v promtool; } >/dev/null 2>&1 || want+=(prometheus) ;;
      mailpit|stripe-mock|jaeger) command -v curl >/dev/null 2>&1 || want+=(curl) ;;
    esac
  done
  [[ ${#want[@]} -gt 0 ]] || return 0
  # Packages such as prometheus start a server of their own (on every interface) when installed:
  # forbid that during this install; we run our own instances on 127.0.0.1.
  local made_policy=0 rc=0
  if [[ ! -e /usr/sbin/policy-rc.d ]] && as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'; then
    made_policy=1
  fi
  apt_install "${want[@]}" || rc=1
  [[ $made_policy -eq 1 ]] && as_root rm -f /usr/sbin/policy-rc.d
  [[ $rc -eq 0 ]] || return 1
  if [[ " ${want[*]} " == *" nats-server "* ]] && [[ -d /run/systemd/system ]]; then
    # The package enables a system service on 4222; we run our own instance.
    as_root systemctl disable --now nats-server >/dev/null 2>&1 || true
  fi
}

java_bin() { echo "${JAVA_HOME:+$JAVA_HOME/bin/}java"; }

ensure_kafka_jars() {
  if [[ -f "$KAFKA_LIBS/.complete" ]]; then
    return 0
  fi
  local jv
  jv="$("$(java_bin)" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  if [[ -z "$jv" || "${jv%%.*}" -lt 17 ]]; then
    err "Kafka $KAFKA_VERSION needs Java 17+, found '${jv:-none}' ($(java_bin))"
    return 1
  fi
  command -v mvn >/dev/null 2>&1 || { err "mvn not found"; return 1; }
  local work="$SHOP_CACHE/kafka-$KAFKA_VERSION"
  mkdir -p "$work"
  take_lock 8 "$SHOP_CACHE/.lock-kafka" 900 || return 1
  [[ -f "$KAFKA_LIBS/.complete" ]] && return 0 # another run did it meanwhile
  log "kafka: fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime deps with Maven (once)"
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.shop.infra</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- kafka_2.13 only brings slf4j-api 1.7 and log4j-core; the broker distribution
         ships slf4j 2 + the log4j2 binding, so add them to actually get logs. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>$KAFKA_SLF4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  rm -rf "$KAFKA_LIBS.tmp"
  if ! (cd "$work" && timeout "$KAFKA_FETCH_TIMEOUT" mvn -B -q -f pom.xml \
      dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$KAFKA_LIBS.tmp" >"$work/mvn.log" 2>&1); then
    err "kafka: Maven could not fetch the jars (timeout ${KAFKA_FETCH_TIMEOUT}s)"
    show_log_tail "$work/mvn.log" 40
    return 1
  fi
  if [[ ! -f "$KAFKA_LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    err "kafka: Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
    return 1
  fi
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
  log "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
}

ensure_ferretdb() {
  [[ -x "$FERRETDB_BIN" ]] && return 0
  if ! command -v go >/dev/null 2>&1; then
    err "mongo: 'go' is not on PATH; FerretDB is built from source with Go (1.22+)"
    return 1
  fi
  take_lock 7 "$SHOP_CACHE/.lock-ferretdb" 900 || return 1
  [[ -x "$FERRETDB_BIN" ]] && return 0
  local src="$SHOP_CACHE/src/ferretdb-$FERRETDB_VERSION" blog="$SHOP_CACHE/ferretdb-build.log" dir
  log "mongo: building FerretDB $FERRETDB_VERSION with Go (once; takes a few minutes on 2 cores)"
  : >"$blog"
  # `go install ...@version` builds a binary that panics at start-up: the module
  # zip lacks build/version/version.txt. So: fetch the module, copy it, write
  # version.txt, build from the copy.
  if ! dir="$(cd "$SHOP_CACHE" && GOFLAGS="" timeout "$FERRETDB_BUILD_TIMEOUT" go mod download -json \
      "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>>"$blog" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')" || [[ -z "$dir" || ! -d "$dir" ]]; then
    err "mongo: 'go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION' failed"
    show_log_tail "$blog" 30
    return 1
  fi
  rm -rf "$src"
  mkdir -p "$(dirname "$src")" "$(dirname "$FERRETDB_BIN")"
  cp -R "$dir" "$src"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  if ! (cd "$src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false timeout "$FERRETDB_BUILD_TIMEOUT" \
      go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb >>"$blog" 2>&1); then
    err "mongo: building FerretDB failed (timeout ${FERRETDB_BUILD_TIMEOUT}s)"
    show_log_tail "$blog" 40
    return 1
  fi
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  ln -sfn "$(basename "$FERRETDB_BIN")" "$SHOP_CACHE/bin/ferretdb"
  rm -rf "$src"
  rmdir "$SHOP_CACHE/src" 2>/dev/null || true
  log "mongo: built $("$FERRETDB_BIN" --version | head -1) -> $FERRETDB_BIN"
}

# go_tool_build NAME BIN MODULE@VERSION [PACKAGE]: builds a Go program once into BIN. A program
# whose go.mod has replace directives cannot be `go install`ed, so every tool is built the same
# way: a throwaway module that requires it as a tool (`go get -tool`), then `go build`.
go_tool_build() {
  local name="$1" bin="$2" modver="$3" pkg="${4:-${3%@*}}" work blog
  [[ -x "$bin" ]] && return 0
  if ! command -v go >/dev/null 2>&1; then
    err "$name: 'go' is not on PATH; it is built from source with Go"
    return 1
  fi
  take_lock 7 "$SHOP_CACHE/.lock-$name" 900 || return 1
  [[ -x "$bin" ]] && return 0
  blog="$SHOP_CACHE/$name-build.log"
  work="$SHOP_CACHE/src/$name-build"
  log "$name: building $modver with Go (once)"
  rm -rf "$work"
  mkdir -p "$work" "$(dirname "$bin")"
  : >"$blog"
  if ! (cd "$work" && export GOFLAGS=-buildvcs=false &&
      go mod init "local.shop/$name-build" >>"$blog" 2>&1 &&
      timeout "$GO_BUILD_TIMEOUT" go get -tool "$pkg@${modver##*@}" >>"$blog" 2>&1 &&
      CGO_ENABLED=0 timeout "$GO_BUILD_TIMEOUT" go build -trimpath -o "$bin.tmp" "$pkg" >>"$blog" 2>&1); then
    err "$name: building $modver failed (timeout ${GO_BUILD_TIMEOUT}s)"
    show_log_tail "$blog" 40
    return 1
  fi
  mv "$bin.tmp" "$bin"
  rm -rf "$work"
  rmdir "$SHOP_CACHE/src" 2>/dev/null || true
  log "$name: built -> $bin"
}

ensure_mailpit() { go_tool_build mailpit "$MAILPIT_BIN" "github.com/axllent/mailpit@$MAILPIT_VERSION"; }
ensure_stripe_mock() { go_tool_build stripe-mock "$STRIPE_MOCK_BIN" "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"; }
ensure_jaeger() { go_tool_build jaeger "$JAEGER_BIN" "github.com/jaegertracing/jaeger@$JAEGER_VERSION" github.com/jaegertracing/jaeger/cmd/jaeger; }

# ---------------------------------------------------------------- launch
# launch SVC LOGFILE CMD...: start detached (own session, no stdin, no lock fd).
launch() {
  local svc="$1" logf="$2"
  shift 2
  printf '\n===== %s: starting %s =====\n' "$(date '+%F %T')" "$svc" >>"$logf"
  setsid "$@" </dev/null >>"$logf" 2>&1 7>&- 8>&- 9>&- &
  echo $! >"$(svc_pidfile "$svc")"
  log "$svc: started pid $! (log: $logf)"
}

start_nats() {
  local d bin
  d="$(svc_dir nats)"
  mkdir -p "$d"
  bin="$(find_nats_server)" || { err "nats: nats-server not found"; return 1; }
  cat >"$d/nats.conf" <<EOF
# generated by scripts/infra/up.sh
listen: 127.0.0.1:$NATS_PORT
http: 127.0.0.1:$NATS_MONITOR_PORT
server_name: shop-local
max_payload: 8MB
# A client that stops answering (a frozen process, a host gone without closing its connection)
# is dropped with its subscriptions after about ping_interval x ping_max, so calls stop going to
# it; a process that dies closes its connection and is dropped at once.
ping_interval: "5s"
ping_max: 2
EOF
  launch nats "$(svc_logfile nats)" "$bin" -c "$d/nats.conf"
}

# start_kafka SVC: `kafka` (one node) or `kafka-i` (broker i of KAFKA_NODES).
start_kafka() {
  local svc="${1:-kafka}" d data id port cport voters m rf isr
  d="$(svc_dir "$svc")"
  data="$d/data"
  id="$(kafka_index "$svc")"
  port="$(kafka_port_of "$svc")"
  cport="$(kafka_controller_port_of "$svc")"
  voters=""
  for m in $(kafka_members); do voters+="${voters:+,}$(kafka_index "$m")@127.0.0.1:$(kafka_controller_port_of "$m")"; done
  rf="$(kafka_replication)"
  isr="$(kafka_min_isr)"
  mkdir -p "$data"
  cat >"$d/server.properties" <<EOF
# generated by scripts/infra/up.sh: KRaft, broker and controller in one process (node $id of $KAFKA_NODES)
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data
num.partitions=$KAFKA_NUM_PARTITIONS
default.replication.factor=$rf
min.insync.replicas=$isr
auto.create.topics.enable=$KAFKA_AUTO_CREATE_TOPICS
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF
  if [[ "$KAFKA_NODES" -gt 1 ]]; then
    # A broker that dies is fenced, and its partitions get new leaders, within seconds.
    cat >>"$d/server.properties" <<EOF
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
unclean.leader.election.enable=false
EOF
  fi
  cat >"$d/log4j2.properties" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
# the full config dump on every start is very long
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
  local java cp cid idfile
  java="$(java_bin)"
  cp="$KAFKA_LIBS/*"
  if [[ ! -f "$data/meta.properties" ]]; then
    # The brokers of a cluster share one cluster id, made when the first of them is formatted.
    idfile="$d/cluster.id"
    [[ "$KAFKA_NODES" -gt 1 ]] && idfile="$INFRA_DIR/kafka-cluster.id"
    if [[ "$KAFKA_NODES" -gt 1 && -s "$idfile" ]]; then
      cid="$(cat "$idfile")"
    else
      cid="$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$d/format.log" | tail -1)"
    fi
    log "$svc: formatting storage in $data (cluster id $cid)"
    if ! "$java" -Xmx256m -Dlog4j2.configurationFile="$d/log4j2.properties" -cp "$cp" \
        kafka.tools.StorageTool format -t "$cid" -c "$d/server.properties" >"$d/format.log" 2>&1; then
      err "$svc: storage format failed"
      show_log_tail "$d/format.log" 30
      return 1
    fi
    echo "$cid" >"$d/cluster.id"
    echo "$cid" >"$idfile"
  fi
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
  launch "$svc" "$(svc_logfile "$svc")" "$java" $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$d/log4j2.properties" \
    -Dkafka.logs.dir="$d" \
    -cp "$cp" kafka.Kafka "$d/server.properties"
}

start_mongo() {
  local d
  d="$(svc_dir mongo)"
  mkdir -p "$d/data" "$d/state"
  launch mongo "$(svc_logfile mongo)" "$FERRETDB_BIN" \
    --handler=sqlite \
    "--sqlite-url=file:$d/data/" \
    --state-dir="$d/state" \
    --listen-addr="127.0.0.1:$MONGO_PORT" \
    --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" \
    --telemetry=disable \
    --log-level="$FERRETDB_LOG_LEVEL" \
    --log-format=text
}

start_mailpit() {
  local d
  d="$(svc_dir mailpit)"
  mkdir -p "$d"
  launch mailpit "$(svc_logfile mailpit)" "$MAILPIT_BIN" \
    --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" \
    --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
    --database "$d/mailpit.db" \
    --max 5000 \
    --smtp-auth-accept-any --smtp-auth-allow-insecure \
    --disable-version-check
}

start_stripe_mock() {
  local d
  d="$(svc_dir stripe-mock)"
  mkdir -p "$d"
  launch stripe-mock "$(svc_logfile stripe-mock)" "$STRIPE_MOCK_BIN" \
    -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" -https-addr "127.0.0.1:$STRIPE_MOCK_HTTPS_PORT"
}

# Jaeger v2 (an OpenTelemetry collector build): in-memory storage, OTLP (gRPC and HTTP) and Zipkin
# receivers, the query API and UI; every listener on 127.0.0.1.
start_jaeger() {
  local d
  d="$(svc_dir jaeger)"
  mkdir -p "$d"
  cat >"$d/jaeger.yaml" <<EOF
# generated by scripts/infra/up.sh
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp, zipkin]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:$JAEGER_HEALTH_PORT
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:$JAEGER_UI_PORT
    grpc:
      endpoint: 127.0.0.1:$JAEGER_QUERY_GRPC_PORT
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$JAEGER_OTLP_GRPC_PORT
      http:
        endpoint: 127.0.0.1:$JAEGER_OTLP_HTTP_PORT
  zipkin:
    endpoint: 127.0.0.1:$JAEGER_ZIPKIN_PORT
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF
  launch jaeger "$(svc_logfile jaeger)" "$JAEGER_BIN" --config "$d/jaeger.yaml"
}

# Prometheus scrapes the nodes listed in $INFRA_DIR/prometheus/targets/*.json (written by
# `npm run cluster` and the cluster tests) and evaluates ops/prometheus/alerts.yml when it exists.
start_prometheus() {
  local d rules="[]"
  d="$(svc_dir prometheus)"
  mkdir -p "$d/data" "$d/targets"
  [[ -f "$REPO_DIR/ops/prometheus/alerts.yml" ]] && rules="[\"$REPO_DIR/ops/prometheus/alerts.yml\"]"
  cat >"$d/prometheus.yml" <<EOF
# generated by scripts/infra/up.sh
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files: $rules
scrape_configs:
  - job_name: shop
    file_sd_configs:
      - files: ["$d/targets/*.json"]
        refresh_interval: 5s
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PROMETHEUS_PORT"]
EOF
  launch prometheus "$(svc_logfile prometheus)" prometheus \
    --config.file="$d/prometheus.yml" \
    --storage.tsdb.path="$d/data" \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --web.enable-lifecycle
}

# ---------------------------------------------------------------- main
declare -A FAILED=() PENDING=()
START_TS=$SECONDS

# Phase 0: servers that already answer are left alone.
TODO=()
for svc in "${SERVICES[@]}"; do
  if pid="$(svc_pid "$svc")"; then
    if svc_answers "$svc"; then
      log "$svc: already up (pid $pid), left alone"
      continue
    fi
    log "$svc: pid $pid is running but not answering yet; waiting for it"
    PENDING[$svc]=1
    continue
  fi
  rm -f "$(svc_pidfile "$svc")"
  if port_open "$(svc_port "$svc")"; then
    if svc_answers "$svc"; then
      warn "$svc: something not started by these scripts already answers on 127.0.0.1:$(svc_port "$svc"); using it as is (down.sh will not stop it)"
    else
      err "$svc: port $(svc_port "$svc") is taken by something that is not a $svc server"
      who_listens "$(svc_port "$svc")"
      FAILED[$svc]="port $(svc_port "$svc") in use"
    fi
    continue
  fi
  TODO+=("$svc")
done

# Phase 1: install what is missing and launch (Kafka boots while FerretDB builds).
if [[ ${#TODO[@]} -gt 0 ]]; then
  if ! ensure_apt_packages; then
    for svc in "${TODO[@]}"; do
      case "$svc" in mongo|mailpit|stripe-mock|jaeger) ;; *) FAILED[$svc]="apt install failed" ;; esac
    done
  fi
  for svc in "${TODO[@]}"; do
    [[ -z "${FAILED[$svc]:-}" ]] || continue
    case "$svc" in
      nats) start_nats || FAILED[nats]="start failed" ;;
      kafka|kafka-*) { ensure_kafka_jars && start_kafka "$svc"; } || FAILED[$svc]="install/start failed" ;;
      mongo) { ensure_ferretdb && start_mongo; } || FAILED[mongo]="build/start failed" ;;
      mailpit) { ensure_mailpit && start_mailpit; } || FAILED[mailpit]="build/start failed" ;;
      stripe-mock) { ensure_stripe_mock && start_stripe_mock; } || FAILED[stripe-mock]="build/start failed" ;;
      jaeger) { ensure_jaeger && start_jaeger; } || FAILED[jaeger]="build/start failed" ;;
      prometheus) start_prometheus || FAILED[prometheus]="start failed" ;;
    esac
    [[ -n "${FAILED[$svc]:-}" ]] || PENDING[$svc]=1
  done
fi

# Phase 2: bounded wait until each launched server answers.
wait_for() {
  local svc="$1" limit="$2" start=$SECONDS pid
  while ((SECONDS - start < limit)); do
    if svc_answers "$svc"; then
      log "$svc: answering on 127.0.0.1:$(svc_port "$svc") (after $((SECONDS - start))s)"
      return 0
    fi
    if ! pid="$(svc_pid "$svc")"; then
      err "$svc: process exited during start-up"
      svc_log_tail "$svc" 40
      rm -f "$(svc_pidfile "$svc")"
      return 1
    fi
    sleep 0.5
  done
  err "$svc: not answering on 127.0.0.1:$(svc_port "$svc") after ${limit}s (pid ${pid:-?} left running; see log)"
  svc_log_tail "$svc" 40
  return 1
}

for svc in "${SERVICES[@]}"; do
  [[ -n "${PENDING[$svc]:-}" ]] || continue
  case "$svc" in
    nats) wait_for nats "$NATS_START_TIMEOUT" || FAILED[nats]="did not answer" ;;
    kafka|kafka-*) wait_for "$svc" "$KAFKA_START_TIMEOUT" || FAILED[$svc]="did not answer" ;;
    mongo) wait_for mongo "$MONGO_START_TIMEOUT" || FAILED[mongo]="did not answer" ;;
    *) wait_for "$svc" "$TOOL_START_TIMEOUT" || FAILED[$svc]="did not answer" ;;
  esac
done

# A Kafka cluster started as a whole: bounded wait until every broker is registered.
if [[ "$KAFKA_NODES" -gt 1 && ${#FAILED[@]} -eq 0 && -n "${PENDING[kafka-1]:-}" ]]; then
  formed_since=$SECONDS
  until kafka_cluster_formed; do
    if ((SECONDS - formed_since >= KAFKA_START_TIMEOUT)); then
      err "kafka: the cluster metadata does not list $KAFKA_NODES brokers after ${KAFKA_START_TIMEOUT}s"
      FAILED[kafka]="cluster not formed"
      break
    fi
    sleep 0.5
  done
  [[ -z "${FAILED[kafka]:-}" ]] && log "kafka: $KAFKA_NODES brokers in the cluster ($(kafka_bootstrap))"
fi

if [[ ${#FAILED[@]} -gt 0 ]]; then
  for svc in "${!FAILED[@]}"; do
    err "FAILED: $svc (${FAILED[$svc]})"
  done
  exit 1
fi

log "all requested servers up ($((SECONDS - START_TS))s); state in $INFRA_DIR"
kafka_exported=0
for svc in "${SERVICES[@]}"; do
  case "$svc" in
    nats) echo "export TRANSPORTER=nats://127.0.0.1:$NATS_PORT" ;;
    kafka|kafka-*)
      [[ $kafka_exported -eq 1 ]] && continue
      kafka_exported=1
      echo "export KAFKA_BROKERS=$(kafka_bootstrap)"
      if [[ "$KAFKA_NODES" -gt 1 ]]; then
        echo "export KAFKA_REPLICATION_FACTOR=$(kafka_replication)"
        echo "export KAFKA_MIN_INSYNC_REPLICAS=$(kafka_min_isr)"
      fi
      ;;
    mongo) echo "export MONGO_URL=mongodb://127.0.0.1:$MONGO_PORT" ;;
    mailpit) echo "export SMTP_URL=smtp://127.0.0.1:$MAILPIT_SMTP_PORT" ;;
    stripe-mock) echo "export STRIPE_API_BASE=http://127.0.0.1:$STRIPE_MOCK_PORT" ;;
    jaeger) echo "export TRACING_EXPORTER_URL=http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT" ;;
  esac
done
