#!/usr/bin/env bash
# Tollgate's benchmark suite, the one command:
#
#   bench/run.sh                  # everything, about 25 minutes: JMH, then every scenario
#   bench/run.sh --quick          # every scenario, short: a smoke run of about 3 minutes, no JMH
#   bench/run.sh --only sse       # one scenario (chat, sse, upload, streams, or jmh); repeatable
#   bench/run.sh --only chat --contenders direct,tollgate   # some contenders only (experiments)
#
# Writes bench/results/<yyyy-mm-dd>-<commit>.md with an SVG plot per scenario beside it (quick and
# partial runs add -quick / -<scenario> to the name, a repeat of the same build -2, -3, ...). It builds the bench jar, installs nginx and
# wrk with apt-get when they are missing (skipping nginx, with a line in the report, when that is
# impossible), raises the open-file limit, pins the proxy to the upper half of the CPUs and the
# load generator and mock upstream to the lower half (TOLLGATE_BENCH_PIN=0 turns pinning off),
# moves PostgreSQL (at SCHED_IDLE) and Redis to the lower half too, turns scheduler autogroups off
# and quiets kdamond and the machine's other services (MariaDB, RabbitMQ, Mosquitto, NATS) for the
# run (see below), and
# runs the mock upstream, nginx and Tollgate as processes of their own. Tollgate gets a fresh
# database tg_bench_<random> on the local PostgreSQL (TOLLGATE_BENCH_PG: a JDBC URL to use another),
# dropped when it exits. TOLLGATE_BENCH_JVM_OPTS: Tollgate's JVM options (default those of ./tollgate as root:
# -Dio.netty.leakDetection.level=disabled -XX:MetaspaceSize=256m --sun-misc-unsafe-memory-access=allow
# --enable-native-access=ALL-UNNAMED -XX:ThreadPriorityPolicy=1). TOLLGATE_BENCH_SERVER_ARGS: extra
# TollgateBenchServer options, to measure with a piece off (e.g. --no-journal); the report lists them.
# --contenders ...,tollgate,tollgate-b runs a second Tollgate beside the first, in the same rounds, with
# TOLLGATE_BENCH_B_JVM_OPTS added to its JVM options and TOLLGATE_BENCH_B_SERVER_ARGS to its arguments
# (after the suite's own, and a later option wins: "--transport io_uring" there measures it against epoll):
# an A/B comparison on this VM, whose speed drifts from minute to minute (neither set: an A/A run).
# TOLLGATE_BENCH_TRANSPORT: the event loops' socket layer of Tollgate and the Netty relay, as
# proxy.transport (auto, the default: epoll; io_uring; nio). TOLLGATE_BENCH_BUSY_POLL_US: how long
# their loops poll before they sleep, as proxy.busy_poll_us (default 0, as shipped: they sleep at once).
# TOLLGATE_BENCH_SSE_RATE: SSE streams started a second (default 100; the report says which).
# --b-commit REV builds the bench jar of another commit (REV: anything git names) and runs tollgate-b
# from it: an A/B of two builds in the same rounds (with --contenders ...,tollgate,tollgate-b; the
# B_JVM_OPTS and B_SERVER_ARGS above apply to it too). TOLLGATE_BENCH_B_JAR names such a jar directly.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
: "${JAVA_HOME:?set JAVA_HOME to a JDK 21+}"
JAR="$ROOT/bench/target/tollgate-bench.jar"

say() { echo "run.sh: $*"; }

ORIGINAL_ARGS="$*"
QUICK=0
ONLY=()
CONTENDERS=""
B_COMMIT=""
while (( $# )); do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --only) ONLY+=("$2"); shift 2 ;;
    --only=*) ONLY+=("${1#--only=}"); shift ;;
    --contenders) CONTENDERS="$2"; shift 2 ;;
    --b-commit) B_COMMIT="$2"; shift 2 ;;
    -h|--help) sed -n '2,34p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
RUN_JMH=1
SCENARIOS=()
for o in "${ONLY[@]}"; do
  case "$o" in
    chat|sse|upload|streams) SCENARIOS+=("$o") ;;
    jmh) ;;
    *) echo "run.sh: unknown scenario $o (chat, sse, upload, streams, jmh)" >&2; exit 2 ;;
  esac
done
if (( QUICK )) || { (( ${#ONLY[@]} )) && [[ ! " ${ONLY[*]} " =~ " jmh " ]]; }; then
  RUN_JMH=0
fi
if (( ${#ONLY[@]} )) && (( ${#SCENARIOS[@]} == 0 )); then
  SCENARIOS=(none)                                   # --only jmh
fi

# --- build -------------------------------------------------------------------------------------
say "building the bench jar"
MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn -B -q -DskipTests package -pl bench -am
if [[ -n "$B_COMMIT" ]]; then
  if [[ ",$CONTENDERS," != *",tollgate-b,"* ]]; then
    echo "run.sh: --b-commit needs tollgate-b among --contenders" >&2; exit 2
  fi
  B_REV="$(git rev-parse --short --verify "$B_COMMIT^{commit}" 2>/dev/null)" \
    || { echo "run.sh: --b-commit $B_COMMIT names no commit" >&2; exit 2; }
  B_DIR="$(mktemp -d /tmp/tollgate-bench-b-XXXXXX)"
  say "building the bench jar of $B_REV for tollgate-b (in $B_DIR)"
  git archive "$B_REV" | tar -x -C "$B_DIR"
  (cd "$B_DIR" && MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn -B -q -DskipTests package -pl bench -am)
  export TOLLGATE_BENCH_B_JAR="$B_DIR/bench/target/tollgate-bench.jar" TOLLGATE_BENCH_B_COMMIT="$B_REV"
fi

# --- tools: nginx and wrk from the distribution ------------------------------------------------
APT_UPDATED=0
apt_install() {
  local pkg="$1"
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then return 1; fi
  local SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo -n"
  command -v apt-get >/dev/null 2>&1 || return 1
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >/dev/null 2>&1; then
    (( APT_UPDATED )) && return 1
    APT_UPDATED=1
    $SUDO apt-get update -q >/dev/null 2>&1 || return 1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >/dev/null 2>&1 || return 1
  fi
}
find_tool() { command -v "$1" 2>/dev/null || { [[ -x "/usr/sbin/$1" ]] && echo "/usr/sbin/$1"; } || true; }

NGINX="$(find_tool nginx)"
NGINX_REASON=""
if [[ -z "$NGINX" ]]; then
  say "installing nginx (apt-get)"
  if apt_install nginx; then NGINX="$(find_tool nginx)"; fi
  [[ -z "$NGINX" ]] && NGINX_REASON="nginx is not installed and apt-get could not install it (needs root or sudo, and Debian's package lists)"
fi
WRK="$(find_tool wrk)"
if [[ -z "$WRK" ]]; then
  say "installing wrk (apt-get)"
  if apt_install wrk; then WRK="$(find_tool wrk)"; fi
  [[ -z "$WRK" ]] && say "wrk is not available: saturation will use the Java generator in closed loop"
fi
[[ -n "$NGINX" ]] && say "nginx: $NGINX" || say "nginx: skipped: $NGINX_REASON"

# --- limits and CPUs ---------------------------------------------------------------------------
# 10,000 streams through a proxy take 20,000 sockets in it: ask for plenty, settle for the hard limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "open files: $(ulimit -n) (hard $(ulimit -Hn))"

# The proxy gets the upper half of the CPUs; the generator and the mock upstream share the lower
# half, or take a quarter each from 4 CPUs up.
cpus() { (( $1 == $2 )) && echo "$1" || echo "$1-$2"; }
N=$(nproc)
CLIENT_CPUS=""; MOCK_CPUS=""; PROXY_CPUS=""
if [[ "${TOLLGATE_BENCH_PIN:-1}" != 0 ]] && (( N >= 2 )) && command -v taskset >/dev/null 2>&1; then
  HALF=$(( N / 2 ))
  PROXY_CPUS=$(cpus "$HALF" $((N - 1)))
  if (( N >= 4 )); then
    QUARTER=$(( N / 4 ))
    CLIENT_CPUS=$(cpus 0 $((QUARTER - 1)))
    MOCK_CPUS=$(cpus "$QUARTER" $((HALF - 1)))
  else
    CLIENT_CPUS=$(cpus 0 $((HALF - 1)))
    MOCK_CPUS="$CLIENT_CPUS"
  fi
  say "CPUs: generator on $CLIENT_CPUS, mock upstream on $MOCK_CPUS, proxies on $PROXY_CPUS"
fi

# PostgreSQL and Redis are Tollgate's services, on other machines in a deployment: here they run on
# the generator's CPUs too, so that they never take the proxy's CPU from under its event loop (a
# settlement batch or a Lua call there stalled it for milliseconds). Every running postgres and
# redis-server process is moved (new backends inherit the postmaster's CPUs) and put back on exit.
# TOLLGATE_BENCH_PIN_SERVICES=0 leaves them alone.
# PostgreSQL also runs at SCHED_IDLE (TOLLGATE_BENCH_PG_IDLE=0 leaves it as started): in a deployment
# its work, the settlement batches off the request path, happens on its own machine. Here it does
# that work in the time CPU 0 leaves, and a waking generator, mock or Redis takes the CPU from it at
# once. Nice 10 was not enough: under EEVDF a running task keeps the CPU for the rest of its slice
# against a woken one, whatever their weights, and a settling batch ran 1.8 ms (median, up to
# 3.3 ms) before the generator or Redis ran again (perf sched); Tollgate's p99 at 2k req/s was
# 2.6 ms at nice 10 (autogroups off) and 0.9 ms at SCHED_IDLE. What waits is in Tollgate's
# journal; after each phase the suite waits until every outcome is in the database and counts
# that drain's CPU in the phase's.
# The policy is set on the postmaster too, so backends forked during the run inherit it.
SERVICES_CPUS=""
PG_IDLE=0                     # PostgreSQL processes put at SCHED_IDLE
declare -A SAVED_AFFINITY=()
declare -A KEPT_POLICY=()     # postgres processes found under another policy than SCHED_OTHER, left so
restore_services() {
  local pid
  for pid in "${!SAVED_AFFINITY[@]}"; do
    taskset -a -p -c "${SAVED_AFFINITY[$pid]}" "$pid" >/dev/null 2>&1 || true
  done
  if (( PG_IDLE )); then
    # backends forked during the run inherited SCHED_IDLE: they go back to SCHED_OTHER too
    for pid in $(pgrep -x postgres 2>/dev/null); do
      [[ -n "${KEPT_POLICY[$pid]:-}" ]] || chrt -o -p 0 "$pid" >/dev/null 2>&1 || true
    done
  fi
  if [[ -n "$SERVICES_CPUS" ]]; then
    # backends forked during the run inherited the pinned set: give them every CPU back
    for pid in $(pgrep -x postgres 2>/dev/null; pgrep -x redis-server 2>/dev/null); do
      [[ -n "${SAVED_AFFINITY[$pid]:-}" ]] || taskset -a -p -c "0-$((N - 1))" "$pid" >/dev/null 2>&1 || true
    done
  fi
}
KDAMOND_PIDS=()
restore_kdamond() {
  local pid
  for pid in "${KDAMOND_PIDS[@]}"; do chrt -o -p 0 "$pid" >/dev/null 2>&1 || true; done
}
AUTOGROUP=/proc/sys/kernel/sched_autogroup_enabled
AUTOGROUP_SAVED=""            # its value before the run, when the run turned it off
restore_autogroup() {
  [[ -n "$AUTOGROUP_SAVED" ]] && echo "$AUTOGROUP_SAVED" > "$AUTOGROUP" 2>/dev/null || true
}
# What the run changes below (CPUs, scheduling classes, autogroups) is put back on exit, however it ends.
QUIETED_PIDS=()              # the machine's other services put at SCHED_IDLE (below)
QUIETED_NAMES=""             # their names, for the report
restore_others() {
  local pid
  for pid in "${QUIETED_PIDS[@]}"; do chrt -o -a -p 0 "$pid" >/dev/null 2>&1 || true; done
}
trap 'restore_services; restore_kdamond; restore_others; restore_autogroup; rm -rf ${B_DIR:+"$B_DIR"}' EXIT
if [[ -n "$CLIENT_CPUS" && "${TOLLGATE_BENCH_PIN_SERVICES:-1}" != 0 ]]; then
  for pid in $(pgrep -x postgres 2>/dev/null; pgrep -x redis-server 2>/dev/null); do
    if affinity="$(taskset -p -c "$pid" 2>/dev/null)" && taskset -a -p -c "$CLIENT_CPUS" "$pid" >/dev/null 2>&1; then
      SAVED_AFFINITY[$pid]="${affinity##*: }"
    fi
  done
  if (( ${#SAVED_AFFINITY[@]} )); then
    SERVICES_CPUS="$CLIENT_CPUS"
    say "PostgreSQL and Redis (${#SAVED_AFFINITY[@]} processes) moved to CPU $SERVICES_CPUS for the run"
  fi
  if [[ "${TOLLGATE_BENCH_PG_IDLE:-1}" != 0 ]] && command -v chrt >/dev/null 2>&1; then
    for pid in $(pgrep -x postgres 2>/dev/null); do
      policy="$(chrt -p "$pid" 2>/dev/null)" || continue
      if [[ "$policy" != *SCHED_OTHER* ]]; then
        KEPT_POLICY[$pid]=1                                   # one set otherwise is left as it is
      elif chrt -i -p 0 "$pid" >/dev/null 2>&1; then
        PG_IDLE=$(( PG_IDLE + 1 ))
      fi
    done
    (( PG_IDLE )) && say "PostgreSQL ($PG_IDLE processes) at SCHED_IDLE for the run"
  fi
fi

# Autogroup (kernel.sched_autogroup_enabled, on in this VM) makes every session a scheduling group
# of its own, and a priority then ranks a task only inside its group: every PostgreSQL backend (each
# calls setsid) weighed as much as the generator and the mock together, whatever its nice or policy.
# For the run it is off, so that the processes started from here on (the contenders, the mock, the
# generator, new backends) are scheduled by their priorities alone; put back on exit.
# TOLLGATE_BENCH_AUTOGROUP=1 leaves it on.
if [[ "${TOLLGATE_BENCH_AUTOGROUP:-0}" != 1 && -w "$AUTOGROUP" ]]; then
  was="$(cat "$AUTOGROUP")"
  if [[ "$was" != 0 ]] && echo 0 > "$AUTOGROUP" 2>/dev/null; then
    AUTOGROUP_SAVED="$was"
    say "scheduler autogroups off for the run"
  fi
fi

# kdamond, the kernel's DAMON memory monitor (the VM platform runs it here), samples every 0.5 s and
# takes 7-23 ms of CPU each time, mostly on CPU 0 (perf sched). Every contender's tail paid for it:
# in Tollgate's request log, requests slowed by 5-20 ms came in clusters exactly 0.51-0.55 s apart.
# For the run it gets SCHED_IDLE: it still samples, in the time the benchmark leaves. Put back on
# exit (restore_kdamond). TOLLGATE_BENCH_QUIET_KDAMOND=0 leaves it alone.
if [[ "${TOLLGATE_BENCH_QUIET_KDAMOND:-1}" != 0 ]] && command -v chrt >/dev/null 2>&1; then
  for pid in $(pgrep '^kdamond' 2>/dev/null); do
    if [[ "$(chrt -p "$pid" 2>/dev/null)" == *SCHED_OTHER* ]] && chrt -i -p 0 "$pid" >/dev/null 2>&1; then
      KDAMOND_PIDS+=("$pid")
    fi
  done
  if (( ${#KDAMOND_PIDS[@]} )); then
    say "kdamond (${#KDAMOND_PIDS[@]} threads) at SCHED_IDLE for the run"
  fi
fi

# The machine's other services, which no contender uses: this VM image starts MariaDB, RabbitMQ,
# Mosquitto and NATS on every machine. RabbitMQ's Erlang VM runs its schedulers in bursts of up to
# 4 ms on both CPUs (its schedulers spin before they sleep, its disk monitor starts `df`): in a
# perf sched trace of Tollgate's SSE phase (3 s), Erlang threads ran 95 ms on the proxy's CPU and
# 105 ms on CPU 0, and came right before 4 of the 10 event-loop wake-ups that waited 0.3 ms or more
# for the CPU, and before 10 of the mock upstream's 20. For the run they get SCHED_IDLE (every
# thread; what they start inherits it): they still run, in the time the benchmark leaves. Put back
# on exit (restore_others). TOLLGATE_BENCH_QUIET_OTHERS=0 leaves them alone.
OTHER_SERVICES=(beam.smp epmd erl_child_setup inet_gethost mariadbd mysqld mosquitto nats-server)
if [[ "${TOLLGATE_BENCH_QUIET_OTHERS:-1}" != 0 ]] && command -v chrt >/dev/null 2>&1; then
  for name in "${OTHER_SERVICES[@]}"; do
    for pid in $(pgrep -x "$name" 2>/dev/null); do
      if [[ "$(chrt -p "$pid" 2>/dev/null)" == *SCHED_OTHER* ]] && chrt -i -a -p 0 "$pid" >/dev/null 2>&1; then
        QUIETED_PIDS+=("$pid")
      fi
    done
  done
  if (( ${#QUIETED_PIDS[@]} )); then
    QUIETED_NAMES="$(for pid in "${QUIETED_PIDS[@]}"; do cat "/proc/$pid/comm" 2>/dev/null; done | sort -u | paste -sd ' ')"
    say "the machine's other services ($QUIETED_NAMES) at SCHED_IDLE for the run"
  fi
fi

# --- names -------------------------------------------------------------------------------------
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
COMMIT_NOTE="$COMMIT"
# Reports of earlier runs, not yet added, are not changes to what runs.
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then COMMIT_NOTE="$COMMIT (with uncommitted changes)"; fi
NAME="$(date +%F)-$COMMIT"
(( QUICK )) && NAME="$NAME-quick"
(( ${#SCENARIOS[@]} )) && [[ "${SCENARIOS[0]}" != none ]] && NAME="$NAME-$(IFS=-; echo "${SCENARIOS[*]}")"
RESULTS="$ROOT/bench/results"
mkdir -p "$RESULTS"
# A second run of the same build and scenarios gets -2, -3, ...: it never overwrites a report.
if [[ -e "$RESULTS/$NAME.md" ]]; then
  n=2
  while [[ -e "$RESULTS/$NAME-$n.md" ]]; do n=$((n + 1)); done
  NAME="$NAME-$n"
fi

# --- JMH ---------------------------------------------------------------------------------------
JMH_ARGS=()
if (( RUN_JMH )); then
  say "JMH (about 2 minutes)"
  "$ROOT/bench/jmh.sh" --out "$RESULTS/$NAME-jmh"
  JMH_ARGS=(--jmh-json "$RESULTS/$NAME-jmh.json")
fi
if [[ "${SCENARIOS[0]:-}" == none ]]; then
  say "done (JMH only): $RESULTS/$NAME-jmh.txt"
  exit 0
fi

# --- the suite ---------------------------------------------------------------------------------
ARGS=(--results "$RESULTS" --name "$NAME" --commit "$COMMIT_NOTE" --nginx "$NGINX" --wrk "$WRK"
      --client-cpus "$CLIENT_CPUS" --mock-cpus "$MOCK_CPUS" --proxy-cpus "$PROXY_CPUS" --services-cpus "$SERVICES_CPUS" --pg-idle "$(( PG_IDLE > 0 ))" --autogroup-off "$([[ -n "$AUTOGROUP_SAVED" ]] && echo 1 || echo 0)" --kdamond-idle "${#KDAMOND_PIDS[@]}" --others-idle "$QUIETED_NAMES" --command "bench/run.sh${ORIGINAL_ARGS:+ $ORIGINAL_ARGS}")
[[ -n "$NGINX_REASON" ]] && ARGS+=(--nginx-skip-reason "$NGINX_REASON")
[[ -n "${TOLLGATE_BENCH_JVM_OPTS:-}" ]] && ARGS+=(--tollgate-jvm-options "$TOLLGATE_BENCH_JVM_OPTS")
(( QUICK )) && ARGS+=(--quick)
[[ -n "$CONTENDERS" ]] && ARGS+=(--contenders "$CONTENDERS")
(( ${#SCENARIOS[@]} )) && ARGS+=(--only "$(IFS=,; echo "${SCENARIOS[*]}")")
PIN=()
[[ -n "$CLIENT_CPUS" ]] && PIN=(taskset -c "$CLIENT_CPUS")

# The generator's heap is touched up front and large enough that it hardly collects while measuring.
"${PIN[@]}" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xms2g -Xmx2g -Xmn1g -XX:+AlwaysPreTouch \
  -cp "$JAR" io.tollgate.bench.suite.SuiteMain "${ARGS[@]}" "${JMH_ARGS[@]}"
