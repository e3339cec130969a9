#!/usr/bin/env bash
# Runs many launcher commands side by side, e.g. every task's row on one GPU.
#
#   bash launch/run_jobs.sh JOBS [P] [SECONDS]
#
# JOBS: one job a line, "NAME ARGS..." -> python launch/main.py ARGS
# --workdir=workdirs/NAME --noprogress, its output in workdirs/logs/NAME.log.
# P jobs run at once (default 4); a job still running SECONDS after the start
# (default: no limit) is stopped, and rerunning the same line resumes it from its
# last checkpoint; a job that would have MIN_LEFT seconds or less (default 10) is not
# started. Prints "NAME rc=... t=..." as each job ends.
# On a GPU, set XLA_PYTHON_CLIENT_MEM_FRACTION (e.g. 0.9 / P) so P processes fit.
set -u
# Times are wall-clock seconds since the epoch (each job runs in its own bash, whose
# $SECONDS would start at 0). The end line gives the job's own time and the time
# since this script started.
jobs_file=$1; P=${2:-4}; export LIMIT=${3:-0} START=$(date +%s)
export MIN_LEFT=${MIN_LEFT:-10}
mkdir -p workdirs/logs
one() {
  local name=$1; shift
  local began=$(date +%s)
  local left=$((LIMIT > 0 ? LIMIT - (began - START) : 1000000000))
  if [ "$left" -le "$MIN_LEFT" ]; then echo "$name skipped (time limit)"; return; fi
  timeout "$left" python launch/main.py "$@" --workdir="workdirs/$name" --noprogress \
      > "workdirs/logs/$name.log" 2>&1
  local rc=$? now=$(date +%s)
  echo "$name rc=$rc t=$((now - began))s (at $((now - START))s)"
}
export -f one
grep -v '^\s*\(#\|$\)' "$jobs_file" | xargs -P "$P" -L 1 bash -c 'one "$@"' _
