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
# The build backends (hatchling; setuptools) come first from their own hash-pinned lock, so nothing unpinned is
# fetched later. feedgen publishes no wheel, only a pure-Python sdist (hash-checked like the rest): it is built
# without build isolation, by the pinned setuptools.
RUN pip install --require-hashes --only-binary=:all: -r requirements-build.lock \
    && pip install --require-hashes --only-binary=:all: --no-binary=feedgen --no-build-isolation -r requirements.lock

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
    && mkdir -p /var/lib/minutes /inbox \
    && chown minutes:minutes /var/lib/minutes /inbox

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MINUTES_DATA_DIR=/var/lib/minutes \
    MINUTES_INBOX=/inbox \
    MINUTES_LOG_FORMAT=json

WORKDIR /var/lib/minutes
USER ${APP_UID}:${APP_GID}

# Without a service name: the settings load and Redis answers. Compose checks each service's own readiness
# (`python -m minutes_cli.health_cmd ingest|parser|store`, the same check as `minutes health SERVICE`).
HEALTHCHECK --interval=30s --timeout=30s --start-period=30s --retries=3 \
    CMD ["python", "-m", "minutes_cli.health_cmd"]

CMD ["minutes", "--help"]
