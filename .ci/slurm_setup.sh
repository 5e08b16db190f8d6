#!/usr/bin/env bash
# CI helper: install and start a one-node SLURM cluster on this machine, so that
# `pytest -m slurm` (tests/test_slurm.py) runs a real sweep through `hydra/launcher=slurm`.
#
#   bash .ci/slurm_setup.sh
#
# Debian/Ubuntu only (apt-get), as root, no systemd needed: the daemons (munged, slurmctld, slurmd)
# are started directly. Idempotent: daemons already running are left alone. It never fails: when it
# cannot set SLURM up it prints `slurm_setup: skipped: <reason>` and exits 0 (the SLURM tests then
# skip with a reason). /etc/slurm/slurm.conf is written only if it is missing or was written by this
# script (marker line below); a configuration written by anyone else is kept as it is.
set -uo pipefail

MARKER="# written by mbo-sim .ci/slurm_setup.sh"
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
LOG_DIR=/var/log/slurm
WAIT_S=30

say() { echo "slurm_setup: $*"; }
skip() { say "skipped: $*"; exit 0; }

start=$(date +%s)

# --- 1. install ---------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || skip "not root (installing and starting SLURM needs root)"
have_all() { command -v sbatch && command -v sinfo && command -v slurmctld && command -v slurmd && command -v munged; }
if have_all >/dev/null 2>&1; then
  say "slurmctld, slurmd, slurm-client, munge already installed"
else
  command -v apt-get >/dev/null 2>&1 || skip "apt-get not available (install slurmctld slurmd slurm-client munge by hand)"
  pkgs=(slurmctld slurmd slurm-client munge)
  say "installing ${pkgs[*]} with apt-get ..."
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${pkgs[@]}" >/tmp/slurm_setup_apt.log 2>&1
  }
  if ! apt_install; then
    say "apt-get install failed; updating the package lists and retrying"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >>/tmp/slurm_setup_apt.log 2>&1
    apt_install || skip "apt-get install ${pkgs[*]} failed (see /tmp/slurm_setup_apt.log: $(tail -n 1 /tmp/slurm_setup_apt.log))"
  fi
  have_all >/dev/null 2>&1 || skip "installed, but sbatch/sinfo/slurmctld/slurmd/munged are not on PATH"
  say "installed ($(dpkg-query -W -f '${Version}' slurmctld 2>/dev/null))"
fi

# --- 2. slurm.conf: one node, one partition -----------------------------------------------------
host=$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)
cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
margin=$(( mem_mb / 10 > 512 ? mem_mb / 10 : 512 ))  # what slurmd finds must be >= RealMemory
real_mem=$(( mem_mb - margin > 256 ? mem_mb - margin : 256 ))
mkdir -p "$CONF_DIR" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR"

new_conf=$(cat <<EOF
$MARKER: a one-node test cluster for \`pytest -m slurm\`.
# Rewritten by that script when the machine changes; delete this marker line to keep your own edits.
ClusterName=mbo-sim-ci
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
# no cgroups (containers usually lack them): plain process tracking, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)

conf_changed=0
if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
  say "keeping $CONF: it was not written by this script"
elif [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$new_conf" ]; then
  say "$CONF is up to date (node $host: $cpus CPUs, $real_mem MB)"
else
  printf '%s\n' "$new_conf" >"$CONF"
  conf_changed=1
  say "wrote $CONF (node $host: $cpus CPUs, $real_mem MB; partition debug)"
fi

# --- 3. munge (its key and folders are touched only when munged is not running) ---------------
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
  say "munged already running"
else
  key=/etc/munge/munge.key
  munge_user=root
  id munge >/dev/null 2>&1 && munge_user=munge
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s "$key" ]; then
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile="$key" --force >/dev/null 2>&1; fi
    [ -s "$key" ] || dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    say "created $key"
  fi
  chown "$munge_user": "$key" /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 0400 "$key"
  chmod 0755 /run/munge
  if [ "$munge_user" = root ]; then
    "$(command -v munged)" --force
  else
    runuser -u munge -- "$(command -v munged)"
  fi
  for _ in $(seq 1 20); do munge_ok && break; sleep 0.25; done
  munge_ok || skip "munged did not start (see /var/log/munge/munged.log)"
  say "started munged (as $munge_user)"
fi

# --- 4. slurmctld, slurmd -----------------------------------------------------------------------
running() {  # running <pidfile> <name>: the pid file names a live process of that name
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ]
}

if running /run/slurmctld.pid slurmctld; then
  say "slurmctld already running"
  if [ "$conf_changed" = 1 ]; then scontrol reconfigure && say "slurmctld reconfigured"; fi
else
  slurmctld || skip "slurmctld did not start (see $LOG_DIR/slurmctld.log)"
  say "started slurmctld"
fi
for _ in $(seq 1 40); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.25; done

if running /run/slurmd.pid slurmd; then
  say "slurmd already running"
else
  slurmd || skip "slurmd did not start (see $LOG_DIR/slurmd.log)"
  say "started slurmd"
fi

# --- 5. wait until the node is idle -------------------------------------------------------------
state=""
resumed=0
for _ in $(seq 1 $((WAIT_S * 2))); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -n 1)
  case "$state" in
    idle|mixed|allocated) break ;;
    down*|drain*|fail*)
      if [ "$resumed" = 0 ]; then
        scontrol update nodename="$host" state=resume 2>/dev/null && say "node $host was $state: resumed"
        resumed=1
      fi ;;
  esac
  sleep 0.5
done
case "$state" in
  idle|mixed|allocated) ;;
  *) skip "node $host is '${state:-not reported}' after ${WAIT_S} s (see $LOG_DIR/slurmctld.log, $LOG_DIR/slurmd.log)" ;;
esac

say "ready in $(( $(date +%s) - start )) s: partition debug, node $host $state ($(sinfo -h -o '%c CPUs, %m MB' | head -n 1))"
