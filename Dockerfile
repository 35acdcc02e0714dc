# syntax=docker/dockerfile:1
# tchat server image: non-root, data in the /data volume, HEALTHCHECK on /healthz,
# SIGTERM drains within the grace period. See docs/DEPLOY.md, "Docker".
#
#   docker build -t tchat .
#   docker run -d --name tchat -p 8765:8765 -v tchat-data:/data tchat
#   docker exec -i tchat tchat-server user add alice --admin --password-stdin < pw.txt

ARG PYTHON_VERSION=3.11

# ---- build: the tchat wheel and the wheels of its dependencies
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY tchat_server ./tchat_server
COPY tchat_client ./tchat_client
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

# ---- run: only the installed packages, as an unprivileged user
FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TCHAT_HOST=0.0.0.0 \
    TCHAT_PORT=8765 \
    TCHAT_DATA_DIR=/data \
    TCHAT_SHUTDOWN_GRACE=8
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-cache-dir --no-index --find-links /wheels tchat \
 && groupadd --system --gid 10001 tchat \
 && useradd --system --uid 10001 --gid tchat --home-dir /data --shell /usr/sbin/nologin tchat \
 && mkdir -p /data \
 && chown tchat:tchat /data \
 && chmod 0700 /data
USER tchat:tchat
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8765
# docker stop sends SIGTERM and waits 10 s by default: the grace above fits in it.
STOPSIGNAL SIGTERM
# Speaks HTTPS when the server terminates TLS itself (TCHAT_TLS_CERT set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, ssl, urllib.request as u; tls = bool(os.environ.get('TCHAT_TLS_CERT')); u.urlopen(('https' if tls else 'http') + '://127.0.0.1:' + os.environ.get('TCHAT_PORT', '8765') + '/healthz', timeout=4, context=ssl._create_unverified_context() if tls else None)"]
ENTRYPOINT ["tchat-server"]
CMD ["serve"]
