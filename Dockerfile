# syntax=docker/dockerfile:1
# One image for every service: `minutes service ingest|parser|store|api`, `minutes migrate`, the CLI.
# Build: docker build -t minutes .      Run: docker compose up -d (see deploy/README.md)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve nothing, install exactly the hash-pinned lock into a venv --------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /src

# The locks alone first, so dependency layers stay cached while the code changes.
COPY requirements.lock requirements-build.lock ./
# --require-hashes: every wheel must match the lock; --only-binary: no sdist builds (no compiler in the image).
# The build backend (hatchling) comes from its own hash-pinned lock, so nothing unpinned is fetched later.
RUN pip install --require-hashes --only-binary=:all: -r requirements.lock -r requirements-build.lock

COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY minutes_cli ./minutes_cli
COPY bench ./bench
# Dependencies and the build backend are in place from the locks; build and install only the project itself.
RUN pip install --no-deps --no-build-isolation . \
    && python -c "import minutes_cli.main, services.ingest.s3_source, shared.blobs_s3, services.api.app"

# ---- runtime: the venv only, as an unprivileged user -----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="minutes" \
      org.opencontainers.image.description="Danish municipal meeting minutes -> structured decisions"

# Fixed ids so bind-mounted inboxes and volumes can be chowned to match on the host.
ARG APP_UID=10001
ARG APP_GID=10001
RUN groupadd --system --gid "${APP_GID}" minutes \
    && useradd --system --uid "${APP_UID}" --gid minutes --home-dir /var/lib/minutes \
       --shell /usr/sbin/nologin minutes \
    && mkdir -p /var/lib/minutes /inbox /opt/minutes \
    && chown minutes:minutes /var/lib/minutes /inbox

COPY --from=build /opt/venv /opt/venv
COPY deploy/healthcheck.py /opt/minutes/healthcheck.py

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MINUTES_DATA_DIR=/var/lib/minutes \
    MINUTES_INBOX=/inbox \
    MINUTES_LOG_FORMAT=json

WORKDIR /var/lib/minutes
USER ${APP_UID}:${APP_GID}

# Liveness of a worker = its settings load and its Redis answers; compose repeats this per service.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/minutes/healthcheck.py"]

CMD ["minutes", "--help"]
