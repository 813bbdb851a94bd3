#!/usr/bin/env bash
# slurm-local.sh - start/stop a real one-node Slurm cluster on this machine,
# for tests that need sbatch/squeue/scontrol/srun (Debian 12, run as root,
# no systemd or cgroups required).
#
# Usage:
#   eval "$(scripts/slurm-local.sh start [STATE_DIR])"   # prints export lines
#   scripts/slurm-local.sh status [STATE_DIR]
#   scripts/slurm-local.sh stop   [STATE_DIR]
#
#   STATE_DIR defaults to $SLURM_LOCAL_DIR or /tmp/bert-latency-slurm.
#   Everything (slurm.conf, state, spool, logs, pid files) lives there; the
#   only things outside it are the packages, /etc/munge/munge.key and munged's
#   default socket (/run/munge), which Slurm's auth/munge plugin uses.
#
# start:
#   * installs slurm-wlm + munge with apt-get if sbatch/slurmctld/slurmd/munged
#     are missing (first run, ~1 min),
#   * creates /etc/munge/munge.key if absent, starts munged (unless a working
#     one is already running) and checks `munge -n | unmunge`,
#   * writes STATE_DIR/slurm.conf for ONE node = `hostname -s` (topology and
#     memory from `slurmd -C`), partition `debug` (Default=YES),
#     proctrack/linuxproc + task/none (no cgroups), select/cons_tres with
#     CR_CPU, MaxArraySize=100001, JobRequeue=1, SlurmUser=root,
#   * starts slurmctld and slurmd as daemons (-f STATE_DIR/slurm.conf),
#   * waits up to 60 s for the node to be idle, then prints on stdout
#       export SLURM_CONF=STATE_DIR/slurm.conf
#     (all other messages go to stderr). Clients (sbatch, squeue, scontrol,
#     sinfo, scancel, srun) need SLURM_CONF in their environment.
#   Idempotent: daemons that are already running are left alone; the config is
#   only rewritten (and daemons reconfigured) if its content changed.
#
# stop: kills slurmd, slurmctld and (if this script started it) munged, using
#   the pid files in STATE_DIR, after scancel-ing this user's remaining jobs.
#   `stop --purge` (or SLURM_LOCAL_PURGE=1) also deletes STATE_DIR.
#
# Requeue: jobs are requeue-able by default (JobRequeue=1), so both
#   `scontrol requeue <jobid>_<task>` and `scancel` + resubmit work; requeued
#   tasks go back to PENDING with BeginTime = now + cred_expire (set to 10 s
#   here via AuthInfo; Slurm's default is 120 s), then run again with
#   SLURM_RESTART_COUNT=1. `scancel <jobid>_<task>` does NOT requeue: the task
#   ends CANCELLED for good.
set -euo pipefail

cmd="${1:-}"; shift || true
purge=0
args=()
for a in "$@"; do
    case "$a" in
        --purge) purge=1 ;;
        *) args+=("$a") ;;
    esac
done
STATE="${args[0]:-${SLURM_LOCAL_DIR:-/tmp/bert-latency-slurm}}"
[[ "${SLURM_LOCAL_PURGE:-0}" == 1 ]] && purge=1
CONF="$STATE/slurm.conf"
NODE="$(hostname -s)"

log() { echo "slurm-local: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pid_alive() { # pidfile
    [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

kill_pidfile() { # name pidfile
    local name="$1" pf="$2" pid i
    if pid_alive "$pf"; then
        pid="$(cat "$pf")"
        log "stopping $name (pid $pid)"
        kill "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name did not exit, sending SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pf"
}

install_pkgs() {
    if command -v sbatch >/dev/null && command -v slurmctld >/dev/null \
        && command -v slurmd >/dev/null && command -v munged >/dev/null; then
        return 0
    fi
    [[ $EUID -eq 0 ]] || die "Slurm is not installed and we are not root"
    log "installing slurm-wlm and munge with apt-get (quiet)"
    # Keep package maintainer scripts from starting services (no systemd here).
    local tmp_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        tmp_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    local rc=0
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge; } \
        >"/tmp/slurm-local-apt.log" 2>&1 || rc=$?
    [[ $tmp_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d
    [[ $rc == 0 ]] || { tail -n 30 /tmp/slurm-local-apt.log >&2; die "apt-get failed"; }
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    local key=/etc/munge/munge.key owner=munge
    id munge >/dev/null 2>&1 || owner=root
    if [[ ! -s "$key" ]]; then
        log "creating $key"
        mkdir -p /etc/munge
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$key" --force
        else
            dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
        fi
    fi
    chown "$owner:$owner" "$key" /etc/munge
    chmod 0400 "$key"
    chmod 0700 /etc/munge
    if munge_ok; then
        log "munged already running and working"
        return 0
    fi
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown "$owner:$owner" /run/munge /var/lib/munge /var/log/munge
    chmod 0755 /run/munge
    chmod 0700 /var/lib/munge /var/log/munge
    rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    log "starting munged (as $owner)"
    if [[ $owner == munge ]]; then
        runuser -u munge -- munged --pid-file="/run/munge/munged.pid"
    else
        munged --force --pid-file="/run/munge/munged.pid"
    fi
    local i
    for i in $(seq 1 50); do
        munge_ok && break
        sleep 0.2
    done
    munge_ok || die "munge -n | unmunge does not work (see /var/log/munge/munged.log)"
    cp /run/munge/munged.pid "$STATE/munged.pid"
}

write_conf() {
    local nodeline cpus real new
    # e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
    nodeline="$(slurmd -C 2>/dev/null | grep '^NodeName=' | head -n1 || true)"
    cpus="$(nproc)"
    real="$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)"
    if [[ -n "$nodeline" ]]; then
        real="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$nodeline")"
        nodeline="$(sed -e 's/^NodeName=[^ ]*//' -e 's/RealMemory=[0-9]*//' <<<"$nodeline")"
    else
        nodeline="CPUs=$cpus"
    fi
    # Leave some slack so a slightly different reading never drains the node.
    real=$(( real * 9 / 10 ))
    new="$(cat <<EOF
# Generated by scripts/slurm-local.sh - one-node test cluster.
ClusterName=local
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also the delay before a requeued job may start again
# (default 120 s); keep it short for tests.
AuthInfo=cred_expire=10
MailProg=/bin/true
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
LaunchType=launch/slurm
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MaxArraySize=100001
MaxJobCount=200000
JobRequeue=1
ReturnToService=2
MinJobAge=300
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 $nodeline RealMemory=$real State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
)"
    new="$(tr -s ' ' <<<"$new")"
    if [[ -f "$CONF" ]] && [[ "$(cat "$CONF")" == "$new" ]]; then
        return 1 # unchanged
    fi
    printf '%s\n' "$new" > "$CONF"
    return 0
}

node_state() {
    SLURM_CONF="$CONF" sinfo -h -n "$NODE" -o '%t' 2>/dev/null | head -n1 || true
}

do_start() {
    local t0=$SECONDS changed=0 st i
    install_pkgs
    mkdir -p "$STATE/ctld" "$STATE/spool"
    chmod 0755 "$STATE"
    start_munge
    write_conf && changed=1 || true
    export SLURM_CONF="$CONF"

    if pid_alive "$STATE/slurmctld.pid"; then
        if [[ $changed == 1 ]]; then
            log "slurm.conf changed, running scontrol reconfigure"
            scontrol reconfigure || true
        else
            log "slurmctld already running"
        fi
    else
        log "starting slurmctld"
        slurmctld -f "$CONF" || die "slurmctld failed, see $STATE/slurmctld.log"
    fi
    if pid_alive "$STATE/slurmd.pid"; then
        log "slurmd already running"
    else
        log "starting slurmd"
        slurmd -f "$CONF" || die "slurmd failed, see $STATE/slurmd.log"
    fi

    for i in $(seq 1 120); do
        st="$(node_state)"
        case "$st" in
            idle|mix|mixed|alloc|allocated) break ;;
            down*|drain*|drng*|fail*)
                # e.g. left over from an earlier unclean stop
                scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
        esac
        sleep 0.5
    done
    case "$st" in
        idle|mix|mixed|alloc|allocated) ;;
        *) log "node state is '${st:-unknown}' after 60 s"
           tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
           die "cluster did not come up" ;;
    esac
    log "node $NODE is $st ($(sinfo -V)), started in $((SECONDS - t0)) s"
    echo "export SLURM_CONF=$CONF"
}

do_stop() {
    local i
    # slurmstepd (the job) outlives slurmd, so cancel jobs while slurmctld runs.
    if pid_alive "$STATE/slurmctld.pid" && [[ -f "$CONF" ]]; then
        export SLURM_CONF="$CONF"
        if [[ -n "$(squeue -h 2>/dev/null)" ]]; then
            log "cancelling remaining jobs"
            scancel --user="$(id -un)" 2>/dev/null || true
            for i in $(seq 1 40); do
                [[ -z "$(squeue -h 2>/dev/null)" ]] && break
                sleep 0.5
            done
        fi
    fi
    kill_pidfile slurmd "$STATE/slurmd.pid"
    kill_pidfile slurmctld "$STATE/slurmctld.pid"
    kill_pidfile munged "$STATE/munged.pid"
    if [[ $purge == 1 ]]; then
        log "removing $STATE"
        rm -rf "$STATE"
    fi
}

do_status() {
    local d
    for d in munged slurmctld slurmd; do
        if pid_alive "$STATE/$d.pid"; then
            echo "$d: running (pid $(cat "$STATE/$d.pid"))"
        else
            echo "$d: not running (from $STATE)"
        fi
    done
    if [[ -f "$CONF" ]]; then
        SLURM_CONF="$CONF" sinfo 2>/dev/null || true
    fi
}

case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
