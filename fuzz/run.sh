#!/usr/bin/env bash
# Runs the libFuzzer drivers built in $FUZZ_DIR (`make fuzz` builds them).
#
#   fuzz/run.sh fuzz SECONDS [TARGET...]
#       Fuzzes each target for SECONDS on a writable copy of its seed corpus
#       ($FUZZ_DIR/corpus/<target>, seeded from fuzz/corpus/<target>; the
#       regressions are read too). New inputs accumulate there, never in the
#       repository. Crash inputs go to $FUZZ_DIR/artifacts/<target>/, logs to
#       $FUZZ_DIR/logs/<target>.log. $FUZZ_JOBS targets run at once (default
#       2: one per core of the project's machines). $FUZZ_SEED, when set,
#       fixes libFuzzer's random seed: .ci/run sets it, so that on a fresh
#       $FUZZ_DIR a commit's fuzzing repeats, up to where the time runs out,
#       instead of depending on luck. Unset, every run explores anew.
#   fuzz/run.sh regress [TARGET...]
#       Runs each target once over every file in fuzz/regressions/<target>/
#       and fuzz/corpus/<target>/: no fuzzing, a plain regression check.
#
# Exits non-zero when any target crashes, leaks, times out (10 s for one
# input) or goes over 2 GiB. Without TARGET, every fuzz/fuzz_*.cc.
set -euo pipefail

cd "$(dirname "$0")/.."
FUZZ_DIR="${FUZZ_DIR:-build-fuzz}"
FUZZ_JOBS="${FUZZ_JOBS:-2}"
COMMON_FLAGS=(-timeout=10 -rss_limit_mb=2048)
FUZZ_SEED="${FUZZ_SEED:-}"

# UBSan reports with a stack; symbolized stacks when llvm-symbolizer exists
# (Debian's package `llvm`, a recommendation of clang that is not always there).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  for s in /usr/bin/llvm-symbolizer /usr/lib/llvm-14/bin/llvm-symbolizer; do
    if [ -x "$s" ]; then export ASAN_SYMBOLIZER_PATH="$s"; break; fi
  done
fi

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The dictionary for each target; none for fuzz_pbkdf2, whose input is
# lengths and raw bytes with no tokens to guess.
dict_for() {
  case "$1" in
    fuzz_json_body) echo fuzz/json.dict ;;
    fuzz_form_body | fuzz_router) echo fuzz/http.dict ;;
    fuzz_jwt) echo fuzz/jwt.dict ;;
    fuzz_email) echo fuzz/email.dict ;;
    fuzz_password_hash | fuzz_password_rules) echo fuzz/password.dict ;;
    fuzz_pbkdf2) echo "" ;;
    *) echo "run.sh: no dictionary for $1" >&2; return 1 ;;
  esac
}

binary_for() {
  local bin="$FUZZ_DIR/fuzz/$1"
  if [ ! -x "$bin" ]; then
    echo "run.sh: $bin is missing: build it first (make fuzz)" >&2
    return 1
  fi
  echo "$bin"
}

# The seed and regression files of a target (README files excepted).
known_inputs() {
  local dir
  for dir in "fuzz/regressions/$1" "fuzz/corpus/$1"; do
    [ -d "$dir" ] || continue
    find "$dir" -maxdepth 1 -type f ! -name 'README*' | sort
  done
}

# One line from a finished fuzzing log: runs, exec/s, coverage, corpus.
summarize() {
  local t="$1" log="$2" rc="$3" status="ok"
  [ "$rc" -eq 0 ] || status="FAILED (exit $rc)"
  awk -v t="$t" -v status="$status" '
    /^stat::number_of_executed_units:/ { runs = $2 }
    /^stat::average_exec_per_sec:/ { eps = $2 }
    /^stat::peak_rss_mb:/ { rss = $2 }
    /(DONE|NEW|REDUCE|pulse|INITED) +cov: / {
      for (i = 1; i <= NF; i++) {
        if ($i == "cov:") cov = $(i + 1)
        if ($i == "ft:") ft = $(i + 1)
        if ($i == "corp:") corp = $(i + 1)
      }
    }
    END {
      printf "%-20s %-16s runs %-9s exec/s %-7s cov %-5s ft %-6s corpus %-10s rss %s MB\n",
             t, status, runs, eps, cov, ft, corp, rss
    }' "$log"
}

fuzz_one() {
  local t="$1" seconds="$2" bin dict corpus artifacts log rc=0
  bin="$(binary_for "$t")"
  dict="$(dict_for "$t")"
  corpus="$FUZZ_DIR/corpus/$t"
  artifacts="$FUZZ_DIR/artifacts/$t"
  log="$FUZZ_DIR/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$FUZZ_DIR/logs"
  # The repository's seeds are copied, never fuzzed in place.
  if [ -d "fuzz/corpus/$t" ]; then
    find "fuzz/corpus/$t" -maxdepth 1 -type f ! -name 'README*' -exec cp -n {} "$corpus/" \;
  fi
  local dirs=("$corpus") seed=() dict_flag=()
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  [ -n "$FUZZ_SEED" ] && seed=(-seed="$FUZZ_SEED")
  [ -n "$dict" ] && dict_flag=(-dict="$dict")
  "$bin" "${COMMON_FLAGS[@]}" "${seed[@]}" -max_total_time="$seconds" "${dict_flag[@]}" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "${dirs[@]}" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$FUZZ_DIR/logs/$t.rc"
}

cmd_fuzz() {
  local seconds="$1"
  shift
  local targets=("$@") t failed=0
  [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage
  for t in "${targets[@]}"; do binary_for "$t" >/dev/null; dict_for "$t" >/dev/null; done
  trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
  echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $FUZZ_JOBS at a time," \
       "seed ${FUZZ_SEED:-random} (logs: $FUZZ_DIR/logs/)"
  for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n || true; done
    rm -f "$FUZZ_DIR/logs/$t.rc"
    echo "fuzz: $t started $(date +%T)"
    fuzz_one "$t" "$seconds" &
  done
  wait
  trap - INT TERM
  echo
  for t in "${targets[@]}"; do
    local rc
    rc="$(cat "$FUZZ_DIR/logs/$t.rc" 2>/dev/null || echo 1)"
    summarize "$t" "$FUZZ_DIR/logs/$t.log" "$rc"
    if [ "$rc" -ne 0 ]; then
      failed=1
      echo "---- $t: end of $FUZZ_DIR/logs/$t.log"
      tail -n 80 "$FUZZ_DIR/logs/$t.log"
      echo "---- $t: crash inputs in $FUZZ_DIR/artifacts/$t/:"
      ls -l "$FUZZ_DIR/artifacts/$t/"
      echo "---- minimise one with: $FUZZ_DIR/fuzz/$t -minimize_crash=1 -runs=100000" \
           "$FUZZ_DIR/artifacts/$t/crash-..., then save it as fuzz/regressions/$t/<name>"
    fi
  done
  return "$failed"
}

cmd_regress() {
  local targets=("$@") t failed=0
  for t in "${targets[@]}"; do
    local bin files log rc=0
    bin="$(binary_for "$t")"
    mapfile -t files < <(known_inputs "$t")
    if [ "${#files[@]}" -eq 0 ]; then
      echo "regress: $t: no inputs"
      continue
    fi
    mkdir -p "$FUZZ_DIR/logs"
    log="$FUZZ_DIR/logs/$t.regress.log"
    # Files as arguments: libFuzzer runs each once and does not fuzz.
    "$bin" "${COMMON_FLAGS[@]}" "${files[@]}" >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
      echo "regress: $t: ok (${#files[@]} inputs)"
    else
      failed=1
      echo "regress: $t: FAILED (exit $rc); end of $log:"
      tail -n 80 "$log"
    fi
  done
  return "$failed"
}

all_targets() {
  local f
  for f in fuzz/fuzz_*.cc; do basename "$f" .cc; done
}

mode="${1:-}"
[ -n "$mode" ] || usage
shift
case "$mode" in
  fuzz)
    [ $# -ge 1 ] || usage
    seconds="$1"
    shift
    if [ $# -eq 0 ]; then mapfile -t targets < <(all_targets); else targets=("$@"); fi
    cmd_fuzz "$seconds" "${targets[@]}"
    ;;
  regress)
    if [ $# -eq 0 ]; then mapfile -t targets < <(all_targets); else targets=("$@"); fi
    cmd_regress "${targets[@]}"
    ;;
  *) usage ;;
esac
