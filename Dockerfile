# One image for every certfree process; the command picks the service:
#   python -m services.ledger | services.licenses | services.proofs | gateway
#   certfree up        (everything in one container, embedded Valkey; one machine)
# Build: docker build -t certfree:dev .   or scripts/build_image.sh (docs/operations.md)
#
# No `# syntax=` line on purpose: it makes BuildKit fetch docker/dockerfile from
# Docker Hub before building, which fails on a network without a registry. Nothing
# here needs more than the frontend built into the engine.
#
# The base image is a build argument so a site with its own registry or a locally
# imported Debian image can build without Docker Hub; it must be CPython 3.11 with
# `python` on PATH and `venv`, and the same image is used for both stages.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install certfree and its dependencies into a virtual environment ---------
FROM ${PYTHON_IMAGE} AS build
# A package index other than PyPI (a mirror inside the network), passed with
# --build-arg; unset, pip uses PyPI. Seen in this stage's history only, never in the
# runtime image: still, put no credentials in them.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/certfree
WORKDIR /src
# Only what the wheel is built from (see .dockerignore): no keys, no var/, no tests.
COPY pyproject.toml README.md ./
COPY certfree ./certfree
COPY runtime ./runtime
COPY services ./services
COPY gateway ./gateway
COPY genproto ./genproto
# Every dependency ships manylinux wheels for CPython 3.11, so no compiler is
# installed, here or below. pip compiles the bytecode: the runtime may not write it.
# pip and setuptools leave the venv afterwards: nothing runs them at run time, and an
# installer in a production image is one more thing to patch.
RUN /opt/certfree/bin/pip install --upgrade pip \
 && /opt/certfree/bin/pip install . \
 && /opt/certfree/bin/pip uninstall --yes pip setuptools

# --- runtime: the virtual environment and an unprivileged user, nothing else ---------
FROM ${PYTHON_IMAGE} AS runtime
# --no-log-init: no sparse lastlog/faillog entries for the high UID. The data
# directory belongs to the user, so a named volume mounted there is writable too
# (Docker copies the ownership of the image's directory into a new volume).
RUN groupadd --system --gid 10001 certfree \
 && useradd --system --no-log-init --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin certfree \
 && install --directory --owner 10001 --group 10001 --mode 0700 /var/lib/certfree
COPY --from=build /opt/certfree /opt/certfree
# CERTFREE_DATA_DIR: `certfree up`'s embedded store (the ledger itself) lives here;
# mount a volume, or its data goes with the container. With a read-only root and no
# volume, the start fails instead of losing data silently. Kubernetes sets
# /tmp/certfree (deploy/k8s/base/settings.yaml): there the store is Valkey's own.
ENV PATH=/opt/certfree/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CERTFREE_LISTEN_HOST=0.0.0.0 \
    CERTFREE_DATA_DIR=/var/lib/certfree \
    CERTFREE_LOG_FORMAT=json
# The root filesystem may be read-only (Kubernetes mounts an emptyDir at /tmp).
WORKDIR /tmp
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
EXPOSE 50051 50052 50053 8080 9464
CMD ["certfree", "--help"]
