# syntax=docker/dockerfile:1
# One image for every certfree process; the command picks the service:
#   python -m services.ledger | services.licenses | services.proofs | gateway
# Build: docker build -t certfree:dev .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install certfree and its dependencies into a virtual environment ---------
FROM ${PYTHON_IMAGE} AS build
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
RUN /opt/certfree/bin/pip install --upgrade pip \
 && /opt/certfree/bin/pip install .

# --- runtime: the virtual environment and an unprivileged user, nothing else ---------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 certfree \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin certfree
COPY --from=build /opt/certfree /opt/certfree
ENV PATH=/opt/certfree/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CERTFREE_LISTEN_HOST=0.0.0.0 \
    CERTFREE_DATA_DIR=/tmp/certfree \
    CERTFREE_LOG_FORMAT=json
# The root filesystem may be read-only (Kubernetes mounts an emptyDir at /tmp).
WORKDIR /tmp
# Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
EXPOSE 50051 50052 50053 8080 9464
CMD ["certfree", "--help"]
