#!/usr/bin/env bash
# JMH benchmarks of the proxy's hot-path pieces (key lookup, rate-limit check, chat body inspection, content rules,
# SSE and usage metering), with allocation per operation (-prof gc).
#
#   bench/jmh.sh                       # writes bench/results/<date>-<commit>-jmh.{txt,json}
#   bench/jmh.sh --out /tmp/x          # writes /tmp/x.txt and /tmp/x.json
#   bench/jmh.sh --out /tmp/x -- -f 2  # extra JMH arguments after --
#
# Run from anywhere; builds bench/target/tollgate-bench.jar when it is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/bench/target/tollgate-bench.jar"
if [[ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
: "${JAVA_HOME:?set JAVA_HOME to a JDK 21+}"

OUT=""
EXTRA=()
while (( $# )); do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "jmh.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$OUT" ]]; then
  OUT="$ROOT/bench/results/$(date +%F)-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)-jmh"
fi
mkdir -p "$(dirname "$OUT")"

if [[ ! -f "$JAR" ]]; then
  (cd "$ROOT" && MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
    mvn -B -q -DskipTests package -pl bench -am)
fi

# One fork, 3 × 1 s warm-up and 5 × 1 s measurement per benchmark: about 2 minutes in all.
"$JAVA_HOME/bin/java" -cp "$JAR" org.openjdk.jmh.Main \
  -f 1 -wi 3 -w 1s -i 5 -r 1s -prof gc \
  -rf json -rff "$OUT.json" \
  "${EXTRA[@]}" 'io\.tollgate\.bench\.jmh\..*' 2>&1 | tee "$OUT.txt"
echo "jmh.sh: wrote $OUT.txt and $OUT.json"
