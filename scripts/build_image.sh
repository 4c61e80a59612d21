#!/bin/sh
# Build certfree's image from a commit, never from a working tree (docs/operations.md).
#
#   scripts/build_image.sh [--ref REF] [--tag NAME:TAG]...     the image, from git
#   scripts/build_image.sh --debian-base                        first, with no Docker Hub
#
# The build context is `git archive REF` (default HEAD): uncommitted edits and untracked
# files never reach the image, whatever .dockerignore lets through. Passed through to
# `docker build` when set: PYTHON_IMAGE (the base), PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
# PIP_TRUSTED_HOST (a package mirror). DOCKER names the client (default docker).
#
# --debian-base makes the base image for a network without a container registry, from
# Debian's own mirror: debootstrap bookworm + python3 (3.11), python3-venv,
# python-is-python3, imported as certfree-local/python:3.11-bookworm. Needs root and
# debootstrap. MIRROR: the Debian mirror (default http://deb.debian.org/debian).
# EXTRA_CA: PEM files the base's trust store adds (an internal mirror's or a TLS-
# inspecting proxy's CA), which pip in the build then trusts.
set -eu

DOCKER=${DOCKER:-docker}
BASE=certfree-local/python:3.11-bookworm

debian_base() {
    mirror=${MIRROR:-http://deb.debian.org/debian}
    rootfs=$(mktemp -d /tmp/certfree-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" \
        >"$rootfs/etc/apt/sources.list"
    printf 'deb %s-security bookworm-security main\n' "$mirror" >>"$rootfs/etc/apt/sources.list"
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    chroot "$rootfs" apt-get update -q
    chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends python3 python3-venv python-is-python3 ca-certificates
    for ca in ${EXTRA_CA:-}; do
        name=$(basename "$ca")
        cp "$ca" "$rootfs/usr/local/share/ca-certificates/${name%.*}.crt"
    done
    chroot "$rootfs" update-ca-certificates
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
    : >"$rootfs/etc/resolv.conf"
    tar -C "$rootfs" -c . | "$DOCKER" import --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' - "$BASE"
    echo "built $BASE; now: PYTHON_IMAGE=$BASE $0"
}

ref=HEAD
tags=""
while [ $# -gt 0 ]; do
    case $1 in
        --ref) ref=$2; shift 2 ;;
        --tag) tags="$tags --tag $2"; shift 2 ;;
        --debian-base) debian_base; exit 0 ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$(git rev-parse --show-toplevel)"
commit=$(git rev-parse --verify "$ref^{commit}")
version=$(git show "$commit:pyproject.toml" | sed -n 's/^version = "\(.*\)"/\1/p')
[ -n "$tags" ] || tags="--tag certfree:$version-$(git rev-parse --short "$commit")"
if [ "$ref" = HEAD ] && [ -n "$(git status --porcelain)" ]; then
    echo "note: the working tree has changes; the image is built from $commit without them" >&2
fi

set -- --label "org.opencontainers.image.revision=$commit" \
    --label "org.opencontainers.image.version=$version"
for name in PYTHON_IMAGE PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do
    eval "value=\${$name:-}"
    [ -z "$value" ] || set -- "$@" --build-arg "$name=$value"
done
# Debian's docker.io (20.10) has no buildx: the classic builder builds this file too.
if ! "$DOCKER" buildx version >/dev/null 2>&1; then
    export DOCKER_BUILDKIT=0
fi
# shellcheck disable=SC2086  # $tags is a list of words on purpose
git archive --format=tar "$commit" | "$DOCKER" build --network host $tags "$@" -
