#!/usr/bin/env bash
# Profiles Tollgate under closed-loop load: the mock upstream, TollgateBenchServer (one event loop,
# pinned to the last CPU) and wrk (on CPU 0) for DURATION seconds, with a JFR recording of the
# last 20 s. Prints wrk's summary with its latency percentiles, then the CPU, run-queue wait and
# time slices a second of each busy JVM thread over the measured run (/proc/PID/task/*/schedstat);
# the recording and the logs stay in the output directory.
#
#   bench/profile.sh [--out DIR] [--duration S] [--warmup S] [--connections N] [--jvm "OPTIONS"] [--no-jfr] [-- SERVER-OPTIONS...]
#   bench/profile.sh -- --redis none --no-journal      # compare with pieces off
#   bench/profile.sh --warmup 60 --connections 1       # one request at a time: the latency floor and its tail
#   jfr print --events jdk.ExecutionSample DIR/rec.jfr  # then read it
#   bench/profile.sh --no-jfr --jvm "... -XX:+PrintCompilation"   # JFR's own instrumentation deoptimizes code too
#
# wrk back-fills latencies above its mean request interval (its own coordinated-omission
# correction), so with --connections 1 its upper percentiles overstate the tail several times;
# compare them between runs, and take absolute times from a capture (tcpdump -i lo).
# Used for the comparisons in the README's performance section (e.g. content rules on and off).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mktemp -d /tmp/tollgate-profile-XXXXXX)"
DURATION=37
WARMUP=0
JFR=1
CONNECTIONS=32
JVM="-Dio.netty.leakDetection.level=disabled --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED -XX:ThreadPriorityPolicy=1"
while (( $# )); do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --jvm) JVM="$2"; shift 2 ;;
    --no-jfr) JFR=0; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "profile.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$ROOT/bench/target/tollgate-bench.jar"
[[ -f "$JAR" ]] || (cd "$ROOT" && mvn -B -q -DskipTests package -pl bench -am)
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || { echo "profile.sh: wrk is needed" >&2; exit 1; }; }
LAST=$(( $(nproc) - 1 ))
mkdir -p "$OUT"

taskset -c 0 "$JAVA" -Xmx1g -cp "$JAR" io.tollgate.bench.MockUpstreamMain --port 0 --threads 1 > "$OUT/mock.log" 2>&1 &
MOCK=$!
TG=""
trap 'kill $MOCK ${TG:-} 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$OUT/mock.log" && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$OUT/mock.log")
DELAY=$(( WARMUP + (DURATION > 25 ? DURATION - 22 : 1) ))
# shellcheck disable=SC2086
RECORD=()
(( JFR )) && RECORD=(-XX:StartFlightRecording=filename="$OUT/rec.jfr",settings=profile,delay=${DELAY}s,duration=20s)
taskset -c "$LAST" "$JAVA" $JVM "${RECORD[@]}" \
  -cp "$JAR" io.tollgate.bench.TollgateBenchServer --upstream "$URL" --io-threads 1 "$@" > "$OUT/tollgate.log" 2>&1 &
TG=$!
for _ in $(seq 1 300); do grep -q ready "$OUT/tollgate.log" && break; sleep 0.1; done
PORT=$(grep -o 'ready port=[0-9]*' "$OUT/tollgate.log" | cut -d= -f2)
KEY=$(grep -o 'key=[^ ]*' "$OUT/tollgate.log" | cut -d= -f2)
cat > "$OUT/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench-chat","messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},{"role":"user","content":"Write one sentence about toll roads and why they exist."}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
CHAT="http://127.0.0.1:$PORT/v1/chat/completions"
if (( WARMUP > 0 )); then
  taskset -c 0 wrk -t1 -c32 -d"${WARMUP}s" -s "$OUT/post.lua" "$CHAT" > "$OUT/warmup.log"
fi
# One line a thread: tid, name, then schedstat's CPU ns, run-queue wait ns and time slices.
threads() { for t in /proc/$TG/task/*; do echo "${t##*/} $(tr ' ' _ < "$t/comm") $(cat "$t/schedstat")"; done | sort; }
threads > "$OUT/threads.before"
taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$OUT/post.lua" "$CHAT" | tee "$OUT/wrk.log"
threads > "$OUT/threads.after"
echo "JVM threads over the measured run (those above 1 ms of CPU a second):"
join "$OUT/threads.before" "$OUT/threads.after" | awk -v d="$DURATION" '{
  cpu = ($7 - $3) / 1e6 / d; wait = ($8 - $4) / 1e6 / d; slices = ($9 - $5) / d
  if (cpu > 1) printf "  %-20s cpu %6.1f ms/s  run-queue wait %6.1f ms/s  slices %6.0f/s\n", $2, cpu, wait, slices }'
sleep 1
echo "profile.sh: recording and logs in $OUT"
