#!/usr/bin/env bash
# start-docker-engine.sh - make sure a Docker engine answers, starting one if needed.
#
# Usage:  eval "$(harness/postgres/docker/start-docker-engine.sh)"
#
# Prints exactly one line on stdout, `export DOCKER_HOST=...`, and all progress
# and error messages on stderr, so the output can be eval'ed by a caller.
#
# Why this exists: the harness machines have no Docker engine running and no
# systemd to start one. So we start dockerd ourselves, with the `vfs` storage
# driver (slow and disk-hungry, but it works on any backing filesystem, with
# no overlayfs/kernel-module requirements) and without iptables, which is not
# needed because published ports work through docker-proxy (the userland
# proxy). Users with a normal Docker install never need this script: step 1
# below finds their engine and exits.
#
# Idempotent: running it again while our daemon is up just prints DOCKER_HOST.
#
# Environment:
#   OWUI_DOCKER_DIR        state dir for the daemon (data-root, exec-root,
#                          socket, log, pid file)
#                          default: /var/tmp/owui-harness-docker
#   OWUI_DOCKER_WAIT_SECS  how long to wait for the daemon to answer (default 60)
#   DOCKER_HOST            if set and answering, it is used as is
set -euo pipefail

DIR="${OWUI_DOCKER_DIR:-/var/tmp/owui-harness-docker}"
WAIT_SECS="${OWUI_DOCKER_WAIT_SECS:-60}"
SOCK="$DIR/docker.sock"
LOG="$DIR/dockerd.log"
PIDFILE="$DIR/dockerd.pid"
# data-root and exec-root must be different directories: dockerd derives the
# managed containerd's --root and --state from them, and containerd refuses to
# start ("root and state must be different paths") when they are equal.
DATA_ROOT="$DIR/data"
EXEC_ROOT="$DIR/run"
OUR_HOST="unix://$SOCK"

log() { printf 'start-docker-engine: %s\n' "$*" >&2; }
die() { printf 'start-docker-engine: ERROR: %s\n' "$*" >&2; exit 1; }

# `docker info` against a given host; bounded by `timeout` because a
# half-started or wedged daemon can otherwise make the client hang.
answers() {
  command -v docker >/dev/null 2>&1 || return 1
  DOCKER_HOST="$1" timeout 15 docker info >/dev/null 2>&1
}

# Is $2 the pid of a live process named $1? Checks the name (a pid may have
# been reused by something else) and the state: a killed daemon whose parent
# has not reaped it yet is a zombie that still shows its name and pid.
is_live() {
  local name="$1" pid="$2" state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  # Field 3 of /proc/PID/stat is the state (field 2, the name, has no spaces).
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)"
  [ -n "$state" ] && [ "$state" != "Z" ] && [ "$state" != "X" ]
}
is_live_dockerd() { is_live dockerd "$1"; }

emit() {
  # The one and only line on stdout.
  printf 'export DOCKER_HOST=%s\n' "$1"
}

# --- 1. An engine that already answers wins (user's own Docker, or ours from
#        an earlier run). ------------------------------------------------------
if [ -n "${DOCKER_HOST:-}" ]; then
  if answers "$DOCKER_HOST"; then
    log "Docker engine at DOCKER_HOST=$DOCKER_HOST answers; nothing to do."
    emit "$DOCKER_HOST"
    exit 0
  fi
  log "DOCKER_HOST=$DOCKER_HOST is set but does not answer; looking further."
fi
for candidate in unix:///var/run/docker.sock "$OUR_HOST"; do
  if answers "$candidate"; then
    log "Docker engine at $candidate answers; nothing to do."
    emit "$candidate"
    exit 0
  fi
done

# --- 2. We have to start one ourselves. -----------------------------------------
[ "$(id -u)" -eq 0 ] || die "no Docker engine answers, and starting one needs root (run this script as root, or start Docker yourself and set DOCKER_HOST)."

# Install docker.io (dockerd, containerd, runc, docker-proxy, client) if
# dockerd is missing. --no-install-recommends: the recommends (git, apparmor,
# needrestart, ...) are not needed to run containers and needrestart can prompt.
# `apt-get update` only when the install fails without it: the package lists
# on these machines are usually already present, and update is slow.
if ! command -v dockerd >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and apt-get is not available to install docker.io; install Docker yourself."
  export DEBIAN_FRONTEND=noninteractive
  log "dockerd not found; installing docker.io with apt-get (output follows on stderr)."
  if ! apt-get install -y --no-install-recommends docker.io >&2; then
    log "apt-get install failed; running apt-get update and trying once more."
    apt-get update >&2 || die "apt-get update failed; cannot install docker.io."
    apt-get install -y --no-install-recommends docker.io >&2 || die "apt-get install docker.io failed (see the apt output above)."
  fi
  command -v dockerd >/dev/null 2>&1 || die "docker.io was installed but dockerd is still not on PATH ($PATH)."
  # A package post-install script may have started the system daemon (only
  # where invoke-rc.d/policy-rc.d allows it). If so, use it rather than
  # starting a second one.
  if answers unix:///var/run/docker.sock; then
    log "The docker.io package started the system daemon; using it."
    emit unix:///var/run/docker.sock
    exit 0
  fi
fi

# The longest socket dockerd creates under $DIR is
# $DIR/run/containerd/containerd.sock.ttrpc (37 bytes after $DIR); a unix
# socket path must fit in 108 bytes, or containerd fails with an obscure
# "bind: invalid argument". Refuse early with a clear message instead.
if [ "${#DIR}" -gt 64 ]; then
  die "OWUI_DOCKER_DIR='$DIR' is too long (${#DIR} chars, keep it <= 64): dockerd's unix sockets under it would exceed the 108-byte socket path limit."
fi
mkdir -p "$DIR" "$DATA_ROOT" "$EXEC_ROOT"
chmod 0711 "$DIR"

# --- 3. Stale state from an earlier daemon that was killed. -----------------------
# If our pid file names a live dockerd, it is either still starting up or
# wedged: wait for it below instead of starting a second daemon on the same
# data-root (which dockerd would refuse anyway). If the process is gone (or the
# pid was reused by something else), remove the pid file and the socket so the
# new daemon starts cleanly.
running_pid=""
if [ -f "$PIDFILE" ]; then
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  if is_live_dockerd "$pid"; then
    running_pid="$pid"
    log "dockerd (pid $pid) from an earlier run is still alive; waiting for it to answer."
  else
    log "Removing stale pid file $PIDFILE (pid '${pid}' is not a running dockerd)."
    rm -f "$PIDFILE"
  fi
fi
if [ -z "$running_pid" ] && [ -e "$SOCK" ]; then
  log "Removing stale socket $SOCK left by a daemon that is no longer running."
  rm -f "$SOCK"
fi
# dockerd runs its own containerd and keeps its pid in
# $EXEC_ROOT/containerd/containerd.pid. After dockerd is SIGKILLed, that
# containerd exits too, but may linger as a zombie (this VM's PID 1 reaps
# orphans lazily) or shut down for a few seconds. A new dockerd checks the pid
# with kill(pid, 0), which succeeds for zombies, logs "containerd is still
# running", tries to reuse it and fails ~15 s later with "timeout waiting for
# containerd to start" (seen on this machine). So: stop a really live orphan,
# and always remove the pid file. Only a containerd whose command line names
# our exec-root is touched.
CTR_PIDFILE="$EXEC_ROOT/containerd/containerd.pid"
if [ -z "$running_pid" ] && [ -f "$CTR_PIDFILE" ]; then
  cpid="$(cat "$CTR_PIDFILE" 2>/dev/null || true)"
  if is_live containerd "$cpid" && tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null | grep -qF "$EXEC_ROOT/containerd/"; then
    log "Stopping containerd (pid $cpid) orphaned by the earlier dockerd."
    kill -TERM "$cpid" 2>/dev/null || true
    for _ in $(seq 1 20); do is_live containerd "$cpid" || break; sleep 0.5; done
    if is_live containerd "$cpid"; then
      log "containerd (pid $cpid) ignored SIGTERM for 10 s; sending SIGKILL."
      kill -KILL "$cpid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$CTR_PIDFILE"
fi

# --- 4. Start dockerd in the background. ------------------------------------------
# --storage-driver=vfs      works on any backing filesystem (no overlayfs needed)
# --iptables=false / --ip-masq=false  no iptables/nft in the VM; the userland
#                           proxy still publishes container ports on the host
# --data-root/--exec-root   keep all state under $DIR, apart from a system
#                           daemon that may exist. exec-root holds unix sockets
#                           (containerd, libnetwork), whose paths are limited to
#                           108 bytes, so $DIR must stay short (checked above).
#                           Both live under $DIR but must differ (see above).
# --pidfile                 not the default /var/run/docker.pid, so this daemon
#                           does not collide with a system one
if [ -z "$running_pid" ]; then
  log "Starting dockerd (data-root $DATA_ROOT, exec-root $EXEC_ROOT, log $LOG)."
  {
    printf '\n===== %s start-docker-engine.sh starting dockerd =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >>"$LOG"
  nohup dockerd \
    --storage-driver=vfs \
    --iptables=false \
    --ip-masq=false \
    --data-root="$DATA_ROOT" \
    --exec-root="$EXEC_ROOT" \
    --pidfile="$PIDFILE" \
    -H "$OUR_HOST" \
    </dev/null >>"$LOG" 2>&1 &
  running_pid=$!
fi

# --- 5. Wait for it to answer. --------------------------------------------------
start_ts=$(date +%s)
while :; do
  if answers "$OUR_HOST"; then
    log "dockerd answers at $OUR_HOST after $(( $(date +%s) - start_ts ))s (pid $running_pid)."
    emit "$OUR_HOST"
    exit 0
  fi
  if ! is_live_dockerd "$running_pid"; then
    log "Last lines of $LOG:"
    tail -n 20 "$LOG" >&2 || true
    die "dockerd (pid $running_pid) exited before answering; see $LOG."
  fi
  if [ $(( $(date +%s) - start_ts )) -ge "$WAIT_SECS" ]; then
    log "Last lines of $LOG:"
    tail -n 20 "$LOG" >&2 || true
    die "dockerd (pid $running_pid) did not answer at $OUR_HOST within ${WAIT_SECS}s; see $LOG. It was left running; kill it with: kill $running_pid"
  fi
  sleep 1
done
