#!/usr/bin/env bash
# A throw-away single-node Slurm cluster on localhost, for trying the sweep scripts and for the tests.
#
#   deploy/slurm/local-cluster.sh start DIR   # writes DIR/slurm.conf, starts munged, slurmctld, slurmd
#   export SLURM_CONF=DIR/slurm.conf          # then sbatch, squeue, scontrol talk to it
#   deploy/slurm/local-cluster.sh stop DIR    # stops the three daemons it started (by their pid files)
#
# Everything (config, munge key and socket, state, logs, pid files) lives in DIR, so it touches no
# system configuration and can run beside another cluster. Needs root (slurmd runs jobs as their
# submitter) and Debian's slurm-wlm and munge packages. One node with 2 CPUs, proctrack/linuxproc,
# task/none, select/cons_tres (CR_CPU), no accounting; ports are chosen free at start.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$2

# A TCP port nobody listens on, from a range away from the usual services.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! ss -Htln "sport = :$port" | grep -q .; then echo "$port"; return; fi
  done
  echo "no free port found" >&2
  return 1
}

# Waits up to $1 seconds for command "${@:2}" to succeed.
wait_for() {
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

node_idle() { sinfo -h -N -o '%T' | grep -Eq '^idle'; }

stop_daemon() {
  local pidfile=$1
  [ -s "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop() {
  # Jobs still running belong to this cluster's slurmd; cancel them before the daemons go.
  if [ -f "$dir/slurm.conf" ] && [ -s "$dir/run/slurmctld.pid" ]; then
    SLURM_CONF="$dir/slurm.conf" timeout 10 scancel --full --user="$(id -un)" >/dev/null 2>&1 || true
  fi
  stop_daemon "$dir/run/slurmd.pid"
  stop_daemon "$dir/run/slurmctld.pid"
  stop_daemon "$dir/run/munged.pid"
}

start() {
  for tool in munged slurmctld slurmd sbatch sinfo; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install -y slurm-wlm munge)" >&2; exit 2; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "error: a local Slurm cluster needs root (slurmd starts jobs as their user)" >&2; exit 2; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # munged refuses a socket below a folder that others cannot enter (mktemp -d makes 0700 folders).
  local up=$dir
  while [ "$up" != / ]; do
    up=$(dirname "$up")
    [ -n "$(find "$up" -maxdepth 0 -perm -o+x)" ] || { echo "error: $up is closed to others (chmod o+x it, or use another DIR): munged needs its socket reachable" >&2; exit 2; }
  done
  mkdir -p "$dir/run" "$dir/munge" "$dir/log" "$dir/state" "$dir/spool"
  # munged wants its socket's folders open to all (clients connect) and its key private.
  chmod 755 "$dir" "$dir/munge"
  chmod 700 "$dir/run"

  local node ctld_port slurmd_port user
  node=$(hostname -s)
  user=$(id -un)
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done

  dd if=/dev/urandom of="$dir/run/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/run/munge.key"

  cat >"$dir/slurm.conf" <<EOF
ClusterName=local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"

  munged --socket="$dir/munge/munge.socket" --key-file="$dir/run/munge.key" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/run/munged.seed"
  wait_for 10 test -S "$dir/munge/munge.socket" || { echo "error: munged did not start (see $dir/log/munged.log)" >&2; stop; exit 1; }

  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF" -N "$node"
  if ! wait_for 60 node_idle; then
    echo "error: the node did not come up within 60 s (see $dir/log/slurmctld.log and slurmd.log)" >&2
    stop
    exit 1
  fi
  echo "Slurm up: export SLURM_CONF=$SLURM_CONF"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
