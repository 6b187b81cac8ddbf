#!/usr/bin/env bash
# Captures the real nvidia-smi's outputs in the format of test/fixtures/nvidia-smi/captures/
# (see its README): a header, then one section per command, idle and under load.
# Usage: scripts/capture-nvidia-smi.sh OUT_FILE [LOAD_COMMAND...]
#   LOAD_COMMAND runs in the background during the "load" phase (e.g. a CUDA burn program).
set -u
out=$1
shift
smi=${NVIDIA_SMI:-nvidia-smi}
rule='################################################################################'

section() { # phase name command...
  local phase=$1 name=$2
  shift 2
  {
    echo "$rule"
    echo "# $phase :: $name"
    echo "# \$ $*"
    echo "$rule"
    "$@" 2>&1
    echo
    echo
  } >>"$out"
}

{
  echo "$rule"
  echo "# gputel nvidia-smi capture (scripts/capture-nvidia-smi.sh)"
  echo "$rule"
  echo "collected_at:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "masked:         no"
  echo "os:             $(uname -s | tr 'A-Z' 'a-z') ($(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}"))"
  echo "kernel:         $(uname -r)"
  echo "arch:           $(uname -m)"
  echo "load:           ${*:-none}"
  echo
  echo
} >"$out"

section capabilities version $smi --version
section capabilities "help (-h)" $smi -h
section capabilities help-query-gpu $smi --help-query-gpu
section capabilities help-query-compute-apps $smi --help-query-compute-apps
section capabilities "list (-L)" $smi -L

# Every field the driver lists (first spelling); drop any it then refuses, one at a time.
fields=$($smi --help-query-gpu | sed -n 's/^"\([^"]*\)".*/\1/p')
for _ in $(seq 1 50); do
  list=$(echo "$fields" | paste -sd, -)
  err=$($smi --query-gpu="$list" --format=csv 2>&1 >/dev/null | head -1)
  bad=$(echo "$err" | sed -n 's/.*Field "\([^"]*\)".*/\1/p')
  [ -z "$bad" ] && break
  fields=$(echo "$fields" | grep -vx "$bad")
done
{
  echo "$rule"
  echo "# capabilities :: query-gpu field list (derived, used for query-gpu above)"
  echo "$rule"
  echo "$fields"
  echo
  echo
} >>"$out"
list=$(echo "$fields" | paste -sd, -)

phase() {
  section "$1" "nvidia-smi (default table)" $smi
  section "$1" "query (-q)" $smi -q
  section "$1" "query-gpu (csv)" $smi --query-gpu="$list" --format=csv
  section "$1" "query-compute-apps (per-process)" $smi --query-compute-apps=timestamp,gpu_name,gpu_bus_id,gpu_serial,gpu_uuid,pid,process_name,used_gpu_memory --format=csv
}

phase idle
if [ $# -gt 0 ]; then
  "$@" >/dev/null 2>&1 &
  load_pid=$!
  sleep 15
  phase load
  kill "$load_pid" 2>/dev/null
  wait "$load_pid" 2>/dev/null
fi
