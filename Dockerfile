# syntax=docker/dockerfile:1
# Bauhof: one image for every role (`bauhof ingest`, `rules`, `api`, `simulate`, `db migrate`).
# Build: docker build -t bauhof:0.1.0 .   (docker-compose.yml builds it as bauhof:${BAUHOF_VERSION})

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# --- build: a wheel of Bauhof and wheels of everything it needs -----------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
RUN pip wheel --wheel-dir /wheels . \
 && test "$(ls /wheels/bauhof-*.whl | wc -l)" = 1

# --- pages: the front-end libraries the API serves under /vendor/ (package-lock.json) ---------
FROM node:20-bookworm-slim AS pages
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# --- runtime: the wheels installed, nothing else ----------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    BAUHOF_ENV=production BAUHOF_VENDOR_DIR=/opt/bauhof/node_modules
RUN groupadd --system --gid 10001 bauhof \
 && useradd --system --uid 10001 --gid bauhof --home-dir /home/bauhof --create-home \
        --shell /usr/sbin/nologin bauhof
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels bauhof
COPY --from=pages /src/node_modules /opt/bauhof/node_modules
USER bauhof
WORKDIR /home/bauhof

# The default check suits the workers (ingest, rules): it exits 0 only when the database and
# the broker answer with this container's credentials. docker-compose.yml gives the api an
# HTTP check and turns the check off for the one-shot `db migrate`.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["bauhof", "services", "status"]

ENTRYPOINT ["bauhof"]
CMD ["--help"]
