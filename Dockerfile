# syntax=docker/dockerfile:1
# The Pingyi image: the worker (pingyi-worker), the API and pages (uvicorn pages.site) and
# reviewctl. Built only from the project's own files and PyPI wheels at the
# exact versions of requirements.lock, on an exact base tag; the final stage
# holds the virtual environment and nothing to build with, and runs as an
# unprivileged user.

FROM node:22.12.0-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=dev

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ONLY_BINARY=:all:
RUN python -m venv /opt/pingyi
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
RUN /opt/pingyi/bin/pip install --requirement requirements.lock
COPY worker.py ./
COPY api api
COPY app app
COPY pages pages
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY storage storage
COPY directory directory
COPY service service
COPY config config
COPY cli cli
COPY migrations migrations
RUN /opt/pingyi/bin/pybabel -q compile -d pages/locale -D messages \
    && /opt/pingyi/bin/pip install --no-deps --constraint requirements.lock . \
    && /opt/pingyi/bin/python -m compileall -q /opt/pingyi/lib

FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/pingyi pingyi
COPY --from=build /opt/pingyi /opt/pingyi
# pages/assets.py serves the npm packages' built files from node_modules beside the packages
COPY --from=assets /src/node_modules/htmx.org/dist /opt/pingyi/lib/python3.11/site-packages/node_modules/htmx.org/dist
COPY --from=assets /src/node_modules/echarts/dist /opt/pingyi/lib/python3.11/site-packages/node_modules/echarts/dist
ENV PATH=/opt/pingyi/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PINGYI_ENVIRONMENT=production \
    PINGYI_LOG_FORMAT=json \
    PINGYI_DATA_DIR=/home/pingyi/var
USER 10001:10001
WORKDIR /home/pingyi
EXPOSE 8000 9464 9465
CMD ["pingyi-worker"]
