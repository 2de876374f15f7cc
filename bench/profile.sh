#!/usr/bin/env bash
# Profiles Tollgate under closed-loop load: the mock upstream, TollgateBenchServer (one event loop,
# pinned to the last CPU) and wrk (on CPU 0) for DURATION seconds, with a JFR recording of the
# last 20 s. Prints wrk's summary with its latency percentiles, the proxy's CPU per request
# (/proc/PID/stat over the measured run: every thread, kernel time included), then the CPU,
# run-queue wait and time slices a second of each busy JVM thread (/proc/PID/task/*/schedstat);
# the recording and the logs stay in the output directory.
#
#   bench/profile.sh [--out DIR] [--duration S] [--warmup S] [--connections N] [--jvm "OPTIONS"]
#                    [--no-jfr] [--async-profiler [EVENT]] [--sse] [--paced MS] [--syscalls]
#                    [--relay] [-- SERVER-OPTIONS...]
#   bench/profile.sh -- --redis none --no-journal      # compare with pieces off
#   bench/profile.sh --warmup 60 --connections 1       # one request at a time: the latency floor and its tail
#   jfr print --events jdk.ExecutionSample DIR/rec.jfr  # then read it
#   bench/profile.sh --no-jfr --jvm "... -XX:+PrintCompilation"   # JFR's own instrumentation deoptimizes code too
#   bench/profile.sh --warmup 60 --no-jfr --async-profiler        # CPU samples with kernel stacks
#   bench/profile.sh --sse --warmup 60 --no-jfr --async-profiler  # streams: 100 chunks 10 ms apart, 100 connections
#   bench/profile.sh --warmup 40 --paced 10 --connections 20 --no-jfr --async-profiler
#                                                      # a low, steady rate (~1.7k req/s here) instead of saturation
#   bench/profile.sh --relay --warmup 40 --no-jfr --async-profiler   # the same of the featureless Netty relay
#
# --relay profiles NettyRelayMain (the suite's `netty` contender: Netty's HTTP codecs, no feature) in
# Tollgate's place, with the same JVM options, CPU and load, so the two profiles differ by Tollgate's
# features only; SERVER-OPTIONS then go to the relay.
#
# --paced MS makes each connection wait MS ms between an answer and its next request (wrk's
# delay()), so the proxy sees requests one wake-up at a time, as at the suite's fixed rates; after a
# closed-loop warm-up, 10 s of the paced load run unmeasured first (the JIT compiles that path
# anew). --syscalls counts the event loop's system calls for 5 s of the measured run
# (`perf trace -s`, into DIR/syscalls.txt); not with --async-profiler: each would measure the other
# (perf trace's tracing took 40% of the loop's samples, the profiler's own ioctl and read calls
# came out at 0.75 a request).
#
# --async-profiler (EVENT: cpu, the default, or wall, alloc, lock) fetches async-profiler's
# linux-x64 jar from Maven Central (tools.profiler:async-profiler), attaches it with
# `jcmd JVMTI.agent_load` for the measured run only (no warm-up, no start-up in it), and writes
# DIR/profile.html (a flame graph) and DIR/profile.collapsed; it prints where the event loop's
# samples fall: kernel (under each system call) or user space (by package), and the top frames.
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
ASYNC=""
ASYNC_VERSION=4.2
CONNECTIONS=""
SSE=0
PACED=""
SYSCALLS=0
RELAY=0
JVM="-Dio.netty.leakDetection.level=disabled -XX:MetaspaceSize=256m --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED -XX:ThreadPriorityPolicy=1"
while (( $# )); do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --jvm) JVM="$2"; shift 2 ;;
    --no-jfr) JFR=0; shift ;;
    --sse) SSE=1; shift ;;
    --paced) PACED="$2"; shift 2 ;;
    --syscalls) SYSCALLS=1; shift ;;
    --relay) RELAY=1; shift ;;
    --async-profiler)
      ASYNC=cpu; shift
      if [[ $# -gt 0 && "$1" != -* ]]; then ASYNC="$1"; shift; fi ;;
    --) shift; break ;;
    -h|--help) sed -n '2,43p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "profile.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
if (( SYSCALLS )) && [[ -n "$ASYNC" ]]; then
  echo "profile.sh: --syscalls and --async-profiler each disturb the other's measurement; run them apart" >&2
  exit 2
fi
# Streams last about a second each: 100 connections keep about 100 open, as the suite's SSE scenario does.
CONNECTIONS="${CONNECTIONS:-$( (( SSE )) && echo 100 || echo 32 )}"
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$ROOT/bench/target/tollgate-bench.jar"
[[ -f "$JAR" ]] || (cd "$ROOT" && mvn -B -q -DskipTests package -pl bench -am)
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || { echo "profile.sh: wrk is needed" >&2; exit 1; }; }
LAST=$(( $(nproc) - 1 ))
mkdir -p "$OUT"
if [[ -n "$ASYNC" ]]; then
  AGENT="$OUT/libasyncProfiler.so"
  (cd "$ROOT" && mvn -B -q dependency:copy -Dartifact="tools.profiler:async-profiler:$ASYNC_VERSION:jar:linux-x64" \
      -DoutputDirectory="$OUT" -Dmdep.stripVersion=true) \
    && unzip -p "$OUT/async-profiler-linux-x64.jar" linux-x64/libasyncProfiler.so > "$AGENT" \
    || { echo "profile.sh: async-profiler $ASYNC_VERSION could not be fetched from Maven Central" >&2; exit 1; }
fi

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
SERVER=io.tollgate.bench.TollgateBenchServer
NAME=Tollgate
(( RELAY )) && SERVER=io.tollgate.bench.NettyRelayMain && NAME="The relay"
taskset -c "$LAST" "$JAVA" $JVM "${RECORD[@]}" \
  -cp "$JAR" "$SERVER" --upstream "$URL" --io-threads 1 "$@" > "$OUT/tollgate.log" 2>&1 &
TG=$!
for _ in $(seq 1 300); do grep -q ready "$OUT/tollgate.log" && break; sleep 0.1; done
PORT=$(grep -o 'ready port=[0-9]*' "$OUT/tollgate.log" | cut -d= -f2)
# The relay checks no key, but the mock upstream answers an empty one with 401, as OpenAI does.
KEY=$( (grep -o 'key=[^ ]*' "$OUT/tollgate.log" || true) | cut -d= -f2)
KEY="${KEY:-sk-relay-bench}"
cat > "$OUT/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench-chat","messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},{"role":"user","content":"Write one sentence about toll roads and why they exist."}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
if (( SSE )); then
  sed -i 's/"max_tokens":16}/"max_tokens":256,"stream":true}/' "$OUT/post.lua"
  cat >> "$OUT/post.lua" <<LUA
wrk.headers["x-mock-tokens"] = "100"
wrk.headers["x-mock-chunk-delay-ms"] = "10"
LUA
fi
CHAT="http://127.0.0.1:$PORT/v1/chat/completions"
SCRIPT="$OUT/post.lua"
if [[ -n "$PACED" ]]; then
  SCRIPT="$OUT/paced.lua"
  { cat "$OUT/post.lua"; echo "function delay() return $PACED end"; } > "$SCRIPT"
fi
if (( WARMUP > 0 )); then
  taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$OUT/post.lua" "$CHAT" > "$OUT/warmup.log"
  [[ -n "$PACED" ]] && taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d10s -s "$SCRIPT" "$CHAT" >> "$OUT/warmup.log"
fi
# One line a thread: tid, name, then schedstat's CPU ns, run-queue wait ns and time slices.
threads() { for t in /proc/$TG/task/*; do echo "${t##*/} $(tr ' ' _ < "$t/comm") $(cat "$t/schedstat")"; done | sort; }
# The process's user + system CPU in clock ticks (fields 14 and 15 of /proc/PID/stat).
ticks() { awk '{ print $14 + $15 }' "/proc/$TG/stat"; }
# jcmd's own parser splits an unquoted option string at '=', hence the inner quotes.
agent() { "${JAVA%/java}/jcmd" "$TG" JVMTI.agent_load "$AGENT" "\"$1\"" > "$OUT/agent.log" 2>&1 \
  || { cat "$OUT/agent.log" >&2; return 1; }; }
[[ -n "$ASYNC" ]] && agent "start,event=$ASYNC,interval=$([[ $ASYNC == cpu || $ASYNC == wall ]] && echo 1ms || echo 512k)"
threads > "$OUT/threads.before"
TICKS0=$(ticks)
taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$SCRIPT" "$CHAT" > "$OUT/wrk.log" &
WRK=$!
if (( SYSCALLS )); then
  LOOP=$(awk '/^(multiThreadIo|relay-)/ { split(FILENAME, p, "/"); print p[5]; exit }' /proc/"$TG"/task/*/comm)
  sleep 3
  if command -v perf >/dev/null && [[ -n "$LOOP" ]]; then
    perf trace -s -t "$LOOP" -o "$OUT/syscalls.txt" -- sleep 5 > /dev/null 2>&1 || echo "profile.sh: perf trace failed" >&2
  else
    echo "profile.sh: --syscalls needs perf (apt-get install linux-perf)" >&2
  fi
fi
wait "$WRK"
cat "$OUT/wrk.log"
grep -q 'Non-2xx' "$OUT/wrk.log" && echo "profile.sh: some answers were not 2xx (above): this profile is not of the path meant" >&2
TICKS1=$(ticks)
threads > "$OUT/threads.after"
if [[ -n "$ASYNC" ]]; then
  agent "dump,file=$OUT/profile.html,flamegraph"
  agent "stop,file=$OUT/profile.collapsed,collapsed"
fi
REQUESTS=$(awk '/requests in/ { print $1 }' "$OUT/wrk.log")
awk -v t=$(( TICKS1 - TICKS0 )) -v hz="$(getconf CLK_TCK)" -v n="$REQUESTS" -v who="$NAME" 'BEGIN {
  if (n > 0) printf "%s CPU per request: %.1f us (%.2f s of CPU, all threads, for %d requests)\n", who, t / hz / n * 1e6, t / hz, n }'
echo "JVM threads over the measured run (those above 1 ms of CPU a second):"
join "$OUT/threads.before" "$OUT/threads.after" | awk -v d="$DURATION" '{
  cpu = ($7 - $3) / 1e6 / d; wait = ($8 - $4) / 1e6 / d; slices = ($9 - $5) / d
  if (cpu > 1) printf "  %-20s cpu %6.1f ms/s  run-queue wait %6.1f ms/s  slices %6.0f/s\n", $2, cpu, wait, slices }'
if [[ -n "$ASYNC" && -s "$OUT/profile.collapsed" ]]; then
  echo "Event loop's $ASYNC samples (async-profiler; flame graph in $OUT/profile.html):"
  awk '
    { n = $NF; sub(/ [0-9]+$/, ""); if ($0 !~ /EpollIoHandler|IoUringIoHandler|NioIoHandler/) next
      k = split($0, f, ";"); total += n; where = ""
      for (i = 2; i <= k; i++) if (f[i] ~ /_\[k\]$/) { where = "kernel, under " f[i - 1]; break }
      if (where == "" && f[k] !~ /\//) where = "user, native code (JVM, libc, stubs)"
      if (where == "") { where = f[k]; sub(/\/[^\/]*$/, "", where); gsub(/\//, ".", where); where = "user, " where }
      by[where] += n; top[f[k]] += n }
    END {
      if (total == 0) exit
      for (w in by) if (by[w] / total >= 0.01) printf "  %5.1f%%  %s\n", 100 * by[w] / total, w | "sort -rn"
      close("sort -rn"); print "  top frames:"
      for (t in top) if (top[t] / total >= 0.005) printf "  %5.1f%%  %s\n", 100 * top[t] / total, t | "sort -rn | head -25"
    }' "$OUT/profile.collapsed"
fi
if [[ -s "$OUT/syscalls.txt" ]]; then
  echo "Event loop's system calls a request (perf trace over 5 s; requests at the run's mean rate):"
  awk -v n="$REQUESTS" -v d="$DURATION" '$2 ~ /^[0-9]+$/ && $1 ~ /^[a-z_0-9]+$/ && n > 0 {
    printf "  %-16s %6.2f   (%s calls, mean %s ms each)\n", $1, $2 / (n * 5 / d), $2, $6 }' "$OUT/syscalls.txt"
fi
sleep 1
echo "profile.sh: recording and logs in $OUT"
