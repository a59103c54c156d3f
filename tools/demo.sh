#!/usr/bin/env bash
# demo.sh - what `make demo` runs: the reservations service with a private
# Redis, steady traffic from loadgen, a real Prometheus scraping it, and a
# live RED view on the terminal, all on 127.0.0.1; Ctrl-C stops everything.
#
# Steps: check that the two public ports are free (before anything starts),
# install missing Debian packages (tools/install-deps.sh), build the service
# and loadgen (release preset), then start redis-server, the service,
# Prometheus and loadgen, print their URLs, and show the view: `vitals top`
# when the CLI has that command and stdout is a terminal, else a table read
# from Prometheus's HTTP API every DEMO_REFRESH seconds (tools/demo-table.py).
#
# Every process it starts is recorded (name and pid) in $work/pids and
# stopped by pid on exit, Ctrl-C or SIGTERM: SIGTERM, then SIGKILL after 10 s,
# and reaped. The work directory (configs, Prometheus storage, logs) is
# removed at the end unless DEMO_KEEP=1.
#
# Environment:
#   DEMO_PORT=8080        the service (and its /metrics)
#   PROM_PORT=9090        Prometheus
#   DEMO_DURATION=0       seconds before stopping by itself; 0: until Ctrl-C
#   DEMO_RATE=20          requests per second from loadgen
#   DEMO_LATENCY_SCALE=1  the service's --latency-scale
#   DEMO_SCRAPE_INTERVAL=5s, DEMO_REFRESH=5 (seconds between tables)
#   DEMO_BUILD=1          0: skip install-deps and the build; use DEMO_BIN_DIR
#   DEMO_BIN_DIR          the build tree holding examples/ (default $BUILD_DIR/release)
#   BUILD_DIR=build, JOBS=2, DEMO_KEEP=0
#
# SPDX-License-Identifier: MIT
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

DEMO_PORT=${DEMO_PORT:-8080}
PROM_PORT=${PROM_PORT:-9090}
DEMO_DURATION=${DEMO_DURATION:-0}
DEMO_RATE=${DEMO_RATE:-20}
DEMO_LATENCY_SCALE=${DEMO_LATENCY_SCALE:-1}
DEMO_SCRAPE_INTERVAL=${DEMO_SCRAPE_INTERVAL:-5s}
DEMO_REFRESH=${DEMO_REFRESH:-5}
DEMO_BUILD=${DEMO_BUILD:-1}
DEMO_KEEP=${DEMO_KEEP:-0}
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$root/$BUILD_DIR ;; esac
DEMO_BIN_DIR=${DEMO_BIN_DIR:-$BUILD_DIR/release}

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# Something accepts connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports() {
    local name port
    for name in DEMO_PORT PROM_PORT; do
        port=${!name}
        if ! is_uint "$port" || ((port < 1 || port > 65535)); then
            die "$name=$port is not a port number (1-65535)"
        fi
    done
    ((DEMO_PORT != PROM_PORT)) || die "DEMO_PORT and PROM_PORT are both $DEMO_PORT"
    if port_busy "$DEMO_PORT"; then
        die "port $DEMO_PORT (the service) is in use; pick another: DEMO_PORT=18080 make demo"
    fi
    if port_busy "$PROM_PORT"; then
        if [ "${1:-}" = after-build ]; then
            # Free before the packages were installed: Debian starts the
            # prometheus service when it installs the package.
            die "port $PROM_PORT (Prometheus) was taken while packages were installed, most" \
                "likely by the system's prometheus service (sudo systemctl stop prometheus);" \
                "or pick another port: PROM_PORT=19090 make demo"
        fi
        die "port $PROM_PORT (Prometheus) is in use; pick another: PROM_PORT=19090 make demo"
    fi
    is_uint "$DEMO_DURATION" || die "DEMO_DURATION=$DEMO_DURATION is not a number of seconds"
    is_uint "$DEMO_REFRESH" && ((DEMO_REFRESH > 0)) ||
        die "DEMO_REFRESH=$DEMO_REFRESH is not a positive number of seconds"
}

build() {
    say "installing missing packages (tools/install-deps.sh)"
    # The npm modules are for tests only: the demo needs no npm registry.
    INSTALL_DEPS_NPM=0 "$root/tools/install-deps.sh" || die "tools/install-deps.sh failed"
    say "building the service and loadgen in $BUILD_DIR/release"
    cmake --preset release -S "$root" -B "$BUILD_DIR/release" >/dev/null ||
        die "cmake configure failed (cmake --preset release -B $BUILD_DIR/release)"
    local -a targets=(reservations loadgen)
    if cmake --build "$BUILD_DIR/release" --target help 2>/dev/null | grep -q '\bvitals_cli\b'; then
        targets+=(vitals_cli)
    fi
    # Run under make, the inner make would print its directory at every step.
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS \
        cmake --build "$BUILD_DIR/release" -j"$JOBS" --target "${targets[@]}" ||
        die "build failed"
}

# ---- the processes ---------------------------------------------------------

work=
declare -a pids=() names=()
sleeper=
viewer=
stopping=0
setsid=
command -v setsid >/dev/null 2>&1 && setsid=setsid

# start NAME COMMAND...: run it in the background, output to $work/NAME.log,
# in a session of its own: Ctrl-C on the terminal reaches this script only,
# which then stops the processes in order. (setsid forks only when its caller
# leads a process group, which a background job of a script never does, so
# $! is the process itself.)
start() {
    local name=$1
    shift
    $setsid "$@" >"$work/$name.log" 2>&1 &
    pids+=("$!")
    names+=("$name")
    printf '%s %s\n' "$name" "$!" >>"$work/pids"
}

pid_of() {
    local i
    for i in "${!names[@]}"; do
        [ "${names[$i]}" = "$1" ] && { printf '%s' "${pids[$i]}"; return 0; }
    done
    return 1
}

alive() { local p; p=$(pid_of "$1") && kill -0 "$p" 2>/dev/null; }

cleanup() {
    local i pid deadline
    ((stopping)) && return
    stopping=1
    # Signals from here on change nothing; a closed stdout only loses text.
    trap '' INT TERM HUP QUIT PIPE
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    [ -n "$viewer" ] && kill "$viewer" 2>/dev/null
    if ((${#pids[@]})); then
        say "stopping $(for ((i = ${#names[@]} - 1; i >= 0; i--)); do printf '%s ' "${names[$i]}"; done)"
        # Last started first, each gone before the next: loadgen finishes its
        # requests in flight while the service still answers them.
        for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
            pid=${pids[$i]}
            kill -TERM "$pid" 2>/dev/null
            deadline=$((SECONDS + 10))
            while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                say "${names[$i]} (pid $pid) ignored SIGTERM; killing it"
                kill -KILL "$pid" 2>/dev/null
            fi
            wait "$pid" 2>/dev/null
        done
        if [ -f "$work/loadgen.log" ]; then
            say "what loadgen sent and got back:"
            grep -v '^loadgen: [0-9]* s:' "$work/loadgen.log" | sed 's/^/  /'
        fi
    fi
    if [ -n "$work" ] && [ -d "$work" ]; then
        if [ "$DEMO_KEEP" = 1 ]; then
            say "logs kept in $work"
        else
            rm -rf "$work"
        fi
    fi
}

on_signal() {
    cleanup
    exit 0
}

# stdout went away (e.g. `make demo | head`): stop quietly.
on_pipe() {
    exec >/dev/null
    cleanup
    exit 0
}

# wait_for WHAT SECONDS PROCESS COMMAND...: retry COMMAND until it succeeds;
# fail when PROCESS exits first or time runs out.
wait_for() {
    local what=$1 secs=$2 proc=$3 deadline
    shift 3
    deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if ! alive "$proc"; then
            sed 's/^/  /' "$work/$proc.log" >&2
            die "$proc exited before $what (log above)"
        fi
        ((SECONDS < deadline)) || die "$what did not happen within $secs s (log: $work/$proc.log)"
        sleep 0.2
    done
}

# Redis on port $1 answers PING (spoken over bash's /dev/tcp, no redis-cli).
redis_pong() (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3
    [[ $reply == +PONG* ]]
)

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# A port nobody listens on, for the private Redis.
free_port() {
    local port
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    for ((port = 26379; port < 26479; port++)); do
        port_busy "$port" || { echo "$port"; return; }
    done
    return 1
}

write_prometheus_config() {
    cat >"$work/prometheus.yml" <<EOF
# The demo's Prometheus: the service and Prometheus itself, every $DEMO_SCRAPE_INTERVAL.
global:
  scrape_interval: $DEMO_SCRAPE_INTERVAL
  evaluation_interval: $DEMO_SCRAPE_INTERVAL
scrape_configs:
  - job_name: reservations
    static_configs:
      - targets: ["127.0.0.1:$DEMO_PORT"]
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PROM_PORT"]
EOF
}

# ---- the view ----------------------------------------------------------------

vitals_top_available() {
    [ -x "$DEMO_BIN_DIR/src/cli/vitals" ] && "$DEMO_BIN_DIR/src/cli/vitals" top --help >/dev/null 2>&1
}

# Sleep up to $1 seconds; a trapped signal cuts it short.
pause() {
    sleep "$1" &
    sleeper=$!
    wait "$sleeper" 2>/dev/null
    sleeper=
}

show_table() {
    local now
    now=$(date +%H:%M:%S)
    if [ -t 1 ]; then
        printf '\033[H\033[2J'
        print_urls
        echo
    else
        echo "---- $now ----"
    fi
    # In the background, so that a signal runs the trap at once instead of
    # after the table (bash delays traps until a foreground command ends).
    if [ -n "$prom_url" ]; then
        python3 "$root/tools/demo-table.py" "$prom_url" &
    else
        python3 "$root/tools/demo-table.py" --metrics "$service_url/metrics" &
    fi
    viewer=$!
    wait "$viewer"
    viewer=
    if ((SECONDS - started < 70)) && [ -n "$prom_url" ]; then
        echo "(rates over 1m read low until Prometheus holds a minute of samples)"
    fi
    if [ -t 1 ]; then
        echo
        echo "$now - refreshed every $DEMO_REFRESH s; Ctrl-C stops the demo"
    fi
}

print_urls() {
    echo "vitals demo: the reservations service under load, measured"
    echo "  service     $service_url/   (try /reservations/42, /database, /error)"
    echo "  metrics     $service_url/metrics"
    if [ -n "$prom_url" ]; then
        echo "  Prometheus  $prom_url/   (scrapes every $DEMO_SCRAPE_INTERVAL)"
    else
        echo "  Prometheus  not installed: the table shows totals from /metrics"
    fi
    echo "  Redis       127.0.0.1:$redis_port (private, no persistence)"
    echo "  load        $DEMO_RATE req/s from loadgen"
    echo "  work dir    $work (logs, pids)"
}

# ---- main --------------------------------------------------------------------

check_ports
if [ "$DEMO_BUILD" != 0 ]; then
    build
fi
service_bin=$DEMO_BIN_DIR/examples/reservations/reservations
loadgen_bin=$DEMO_BIN_DIR/examples/loadgen/loadgen
[ -x "$service_bin" ] || die "no service binary at $service_bin"
[ -x "$loadgen_bin" ] || die "no loadgen binary at $loadgen_bin"
command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed"
command -v curl >/dev/null 2>&1 || die "curl is not installed"
command -v python3 >/dev/null 2>&1 || die "python3 is not installed"
# The build can take a while: look again before starting anything.
check_ports after-build

work=$(mktemp -d "${TMPDIR:-/tmp}/vitals-demo.XXXXXX") || die "cannot make a work directory"
: >"$work/pids"
trap on_signal INT TERM HUP QUIT
trap on_pipe PIPE
trap cleanup EXIT

service_url=http://127.0.0.1:$DEMO_PORT
prom_url=
redis_port=$(free_port) || die "no free port for Redis"

start redis redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$work"
wait_for "Redis answered PING" 10 redis redis_pong "$redis_port"

start service "$service_bin" --host 127.0.0.1 --port "$DEMO_PORT" --redis-host 127.0.0.1 \
    --redis-port "$redis_port" --latency-scale "$DEMO_LATENCY_SCALE"
wait_for "the service answered /up" 10 service http_ok "$service_url/up"

if command -v prometheus >/dev/null 2>&1; then
    write_prometheus_config
    mkdir -p "$work/prometheus-data"
    start prometheus prometheus --config.file="$work/prometheus.yml" \
        --storage.tsdb.path="$work/prometheus-data" \
        --web.listen-address="127.0.0.1:$PROM_PORT"
    prom_url=http://127.0.0.1:$PROM_PORT
    wait_for "Prometheus was ready" 30 prometheus http_ok "$prom_url/-/ready"
else
    say "prometheus is not installed (apt-get install prometheus); going on without it"
fi

start loadgen "$loadgen_bin" --url "$service_url" --rate "$DEMO_RATE" --timeout 5
started=$SECONDS

print_urls
echo

end=$((SECONDS + DEMO_DURATION))
if [ -t 1 ] && vitals_top_available; then
    if ((DEMO_DURATION > 0)); then
        timeout --foreground "$DEMO_DURATION" "$DEMO_BIN_DIR/src/cli/vitals" top "$service_url/metrics"
    else
        "$DEMO_BIN_DIR/src/cli/vitals" top "$service_url/metrics"
    fi
    exit 0
fi

[ -t 1 ] || say "refreshing every $DEMO_REFRESH s (the first rates need two scrapes)"
while ((DEMO_DURATION == 0 || SECONDS < end)); do
    if ! alive service; then
        sed 's/^/  /' "$work/service.log" >&2
        die "the service stopped unexpectedly (log above)"
    fi
    show_table
    if ! redis_pong "$redis_port"; then
        echo "Redis (port $redis_port) is not running: the service answers from the database;"
        echo "  redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly no"
        echo "  brings it back (stop that one yourself) and the service reconnects."
    fi
    left=$DEMO_REFRESH
    if ((DEMO_DURATION > 0 && end - SECONDS < left)); then
        left=$((end - SECONDS))
    fi
    ((left > 0)) && pause "$left"
done
exit 0
