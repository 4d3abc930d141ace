#!/usr/bin/env bash
# build-postgres-image.sh - build a local `postgres:15` Docker image from
# Debian packages, for machines that cannot reach a container registry.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENTRYPOINT_SRC="$SCRIPT_DIR/docker-entrypoint.sh"
SUITE=bookworm          # Debian release that ships postgresql-15
TAG=postgres:15
FORCE=0
MIRROR="${DEBIAN_MIRROR:-}"

usage() {
  cat <<EOF
Usage: $(basename "$0") [--force] [--mirror URL] [--tag NAME:TAG] [--help]

Builds a Docker image tagged $TAG without pulling anything from a container
registry, so that Testcontainers' \`new PostgreSqlContainer('postgres:15')\`
(and \`docker run postgres:15\`) work on air-gapped machines or machines whose
registry access is blocked. Only a Debian package mirror is needed.

What it does:
  1. Exits at once if the image already exists (unless --force).
  2. Installs debootstrap with apt-get if it is missing.
  3. Runs \`debootstrap --variant=minbase --include=postgresql-15 $SUITE\`
     into a temporary directory (about 1 minute, ~450 MB before trimming).
  4. Adds docker-entrypoint.sh (next to this script) as
     /usr/local/bin/docker-entrypoint.sh. It behaves like the official
     image's entrypoint: POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB /
     PGDATA / POSTGRES_INITDB_WALDIR / POSTGRES_INITDB_ARGS, initdb on first
     start, password logins from any host, extra \`-c name=value\` arguments.
  5. Imports the tree with \`docker import\` (PATH including
     /usr/lib/postgresql/15/bin, PGDATA=/var/lib/postgresql/data,
     ENTRYPOINT docker-entrypoint.sh, CMD ["postgres"], EXPOSE 5432) and
     removes the temporary tree.

The Debian mirror is read at run time, in this order:
  --mirror URL, \$DEBIAN_MIRROR, the first \`URIs:\` line of a stanza for
  $SUITE in /etc/apt/sources.list.d/debian.sources, the first
  \`deb ... URL $SUITE ...\` line of /etc/apt/sources.list.
An air-gapped machine can point it at a local mirror (e.g. apt-cacher-ng,
aptly, or a file:// copy of the archive).

Needs: root (debootstrap), a Docker engine that answers (\`docker info\`;
see start-docker-engine.sh next to this script), and the image is only an
approximation of the official one: Debian's build of PostgreSQL 15, C.UTF-8
locale by default, no extensions beyond what postgresql-15 ships.

Options:
  --force        rebuild even if $TAG already exists (the tag is moved)
  --mirror URL   Debian mirror to use instead of the one apt is configured with
  --tag NAME:TAG image name to produce (default $TAG)
  -h, --help     show this text
EOF
}

log() { printf 'build-postgres-image: %s\n' "$*" >&2; }
die() { printf 'build-postgres-image: ERROR: %s\n' "$*" >&2; exit 1; }

while [ "$#" -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --mirror) [ "$#" -ge 2 ] || die "--mirror needs a URL"; MIRROR="$2"; shift ;;
    --mirror=*) MIRROR="${1#--mirror=}" ;;
    --tag) [ "$#" -ge 2 ] || die "--tag needs a value"; TAG="$2"; shift ;;
    --tag=*) TAG="${1#--tag=}" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

start_ts=$(date +%s)

# --- Preconditions --------------------------------------------------------------
command -v docker >/dev/null 2>&1 || die "the docker client is not installed; run start-docker-engine.sh first."
if ! timeout 30 docker info >/dev/null 2>&1; then
  die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-<unset>}). Start one first:  eval \"\$($SCRIPT_DIR/start-docker-engine.sh)\""
fi

if [ "$FORCE" -eq 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "image $TAG already exists; nothing to do (use --force to rebuild)."
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root; run this script as root."
[ -r "$ENTRYPOINT_SRC" ] || die "entrypoint not found at $ENTRYPOINT_SRC"

# --- debootstrap ----------------------------------------------------------------
# gpgv + debian-archive-keyring let debootstrap verify the Release file; they
# are only Recommends of debootstrap, so ask for them explicitly.
# Only the missing ones, so apt does not re-mark installed ones as manual.
pkgs=()
command -v debootstrap >/dev/null 2>&1 || pkgs+=(debootstrap)
command -v gpgv >/dev/null 2>&1 || pkgs+=(gpgv)
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || pkgs+=(debian-archive-keyring)
if [ "${#pkgs[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "${pkgs[*]} missing and apt-get is not available to install them."
  export DEBIAN_FRONTEND=noninteractive
  log "installing ${pkgs[*]} with apt-get."
  if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >&2; then
    log "apt-get install failed; running apt-get update and trying once more."
    apt-get update >&2 || die "apt-get update failed."
    apt-get install -y --no-install-recommends "${pkgs[@]}" >&2 || die "could not install ${pkgs[*]}."
  fi
fi

# --- Mirror: read from apt's configuration at run time ---------------------------
# Never hard-coded: the machines use whatever mirror (or proxy) apt is set up
# with, and that is the only one known to be reachable.
# Prefer a source that lists $SUITE itself; otherwise take any Debian archive
# source that is not the security archive (a host on a newer release still
# points at a mirror that carries $SUITE).
if [ -z "$MIRROR" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
  # deb822 format: blank-line separated stanzas with URIs:/Suites:/Types:.
  MIRROR="$(awk -v suite="$SUITE" '
    BEGIN { RS = ""; FS = "\n" }
    {
      uri = ""; ok_suite = 0; ok_type = 0; security = 0
      for (i = 1; i <= NF; i++) {
        line = $i
        if (line ~ /^[[:space:]]*#/) continue
        if (line ~ /^URIs:/)  { sub(/^URIs:[[:space:]]*/, "", line); split(line, u, /[[:space:]]+/); uri = u[1] }
        if (line ~ /^Suites:/) {
          sub(/^Suites:[[:space:]]*/, "", line); n = split(line, s, /[[:space:]]+/)
          for (j = 1; j <= n; j++) { if (s[j] == suite) ok_suite = 1; if (s[j] ~ /-security$/) security = 1 }
        }
        if (line ~ /^Types:/ && line ~ /(^|[[:space:]])deb([[:space:]]|$)/) ok_type = 1
      }
      if (uri == "" || !ok_type) next
      if (ok_suite) { print uri; found = 1; exit }
      if (!security && fallback == "") fallback = uri
    }
    END { if (!found && fallback != "") print fallback }' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$MIRROR" ] && [ -r /etc/apt/sources.list ]; then
  # One-line format: deb [options] URI suite component...
  MIRROR="$(awk -v suite="$SUITE" '
    $1 == "deb" {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; found = 1; exit }
      if ($(i + 1) !~ /-security$/ && fallback == "") fallback = $i
    }
    END { if (!found && fallback != "") print fallback }' /etc/apt/sources.list)"
fi
[ -n "$MIRROR" ] || die "could not find a Debian mirror for $SUITE in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; pass one with --mirror URL."
log "using Debian mirror $MIRROR (suite $SUITE)."

# --- Build tree, with cleanup that cannot escape it ------------------------------
# /var/tmp rather than /tmp: /tmp may be a small tmpfs, the tree is ~450 MB.
WORK="$(mktemp -d "${TMPDIR:-/var/tmp}/owui-pg-image.XXXXXX")"
ROOTFS="$WORK/rootfs"
cleanup() {
  # debootstrap mounts /proc and /sys inside the tree and can leave them
  # mounted if it fails; unmount those first (deepest first) and never let rm
  # cross into another filesystem.
  if [ -d "$WORK" ]; then
    awk -v root="$ROOTFS" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/mounts \
      | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "debootstrap --variant=minbase --include=postgresql-15 $SUITE into $ROOTFS (takes a minute or two; log in $WORK/debootstrap.log while it runs)."
boot_ts=$(date +%s)
if ! debootstrap --variant=minbase --include=postgresql-15 "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2 || true
  [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (last lines above)."
fi
log "debootstrap finished in $(( $(date +%s) - boot_ts ))s."

# Sanity: the pieces the entrypoint and Testcontainers' checks depend on.
for f in usr/lib/postgresql/15/bin/postgres usr/lib/postgresql/15/bin/initdb \
         usr/lib/postgresql/15/bin/pg_ctl usr/lib/postgresql/15/bin/pg_isready \
         usr/lib/postgresql/15/bin/psql usr/bin/setpriv bin/bash bin/sh usr/bin/awk; do
  [ -x "$ROOTFS/$f" ] || die "debootstrapped tree lacks /$f"
done

# --- Customise the tree ---------------------------------------------------------
install -m 0755 "$ENTRYPOINT_SRC" "$ROOTFS/usr/local/bin/docker-entrypoint.sh"
# The postgresql package's postinst created a default cluster (15/main);
# the image initialises its own in $PGDATA, so drop it, and the downloaded
# .debs and package lists, to keep the image small: with the vfs storage
# driver every container start copies the whole image.
rm -rf "$ROOTFS/etc/postgresql/15/main" "$ROOTFS/var/lib/postgresql/15/main"
rm -f "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin
rm -rf "$ROOTFS"/var/lib/apt/lists/*
# Same trimming as Debian's "slim" images: documentation (keeping copyright
# files), man/info pages, message translations and locale sources are never
# used in a container. About 90 MB, i.e. ~20% off every container creation.
find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/i18n/*
find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
mkdir -p "$ROOTFS/var/lib/postgresql/data"
chroot "$ROOTFS" chown postgres:postgres /var/lib/postgresql/data
chmod 0700 "$ROOTFS/var/lib/postgresql/data"

# --- Import ---------------------------------------------------------------------
# With --force the tag moves to the new image; remember the old one so it does
# not linger as a dangling ~430 MB image (vfs stores every layer in full).
old_id="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
log "importing the tree as $TAG."
import_ts=$(date +%s)
# --numeric-owner: the image's own /etc/passwd (not the host's) gives the
# names; ids must be kept as they are in the tree.
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  --change 'EXPOSE 5432' \
  --message "postgresql-15 from Debian $SUITE via debootstrap ($(basename "$0"))" \
  - "$TAG" >&2
log "import finished in $(( $(date +%s) - import_ts ))s."
new_id="$(docker image inspect --format '{{.Id}}' "$TAG")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
  # Fails harmlessly (and keeps it) if a container still uses the old image.
  if docker rmi "$old_id" >/dev/null 2>&1; then
    log "removed the previous $TAG image ${old_id#sha256:}."
  else
    log "kept the previous $TAG image ${old_id#sha256:} (still in use or tagged elsewhere)."
  fi
fi

size="$(docker image inspect --format '{{.Size}}' "$TAG" 2>/dev/null || echo '?')"
log "built $TAG (${size} bytes) in $(( $(date +%s) - start_ts ))s total."
