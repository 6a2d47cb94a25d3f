# syntax=docker/dockerfile:1
# Multi-stage: dependencies and the wheel are built in `build`; the runtime image holds only the
# virtual environment and runs as an unprivileged user. Migrations are a separate command
# (`bank-api migrate`), never run on import or at server start.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
RUN python -m venv /opt/venv
COPY requirements/runtime.txt requirements/runtime.txt
RUN /opt/venv/bin/pip install -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY src src
COPY alembic alembic
RUN /opt/venv/bin/pip install --no-deps . && rm -rf /build

FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 bank \
 && useradd --system --uid 10001 --gid bank --home-dir /app --shell /usr/sbin/nologin bank
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BANK_API_ENVIRONMENT=production
WORKDIR /app
USER bank:bank
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["bank-api", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
