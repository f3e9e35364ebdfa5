# The bot in a container; compose.yaml runs it (`docker compose up -d`). The builder installs the
# hashed runtime lock and then the project into a venv; the final image is the slim base, that
# venv and a user of its own. The database lives in the volume /var/lib/siaga112.

FROM python:3.11-slim-bookworm AS builder
RUN python -m venv /opt/siaga112
WORKDIR /src
# The dependencies in a layer of their own: a change to the code does not reinstall them. Wheels
# only, as the slim image has no compiler; every file is checked against the lock's hashes.
COPY requirements/runtime.txt requirements/
RUN /opt/siaga112/bin/python -m pip install --no-cache-dir --disable-pip-version-check \
        --only-binary=:all: --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md LICENSE ./
COPY bot bot/
COPY handlers handlers/
COPY models models/
COPY migrations migrations/
# Built with the locked setuptools (no isolated build fetching one unchecked), not editable, so
# the venv holds everything; the build backend then leaves, as the bot never needs it.
RUN /opt/siaga112/bin/python -m pip install --no-cache-dir --disable-pip-version-check \
        --no-deps --no-build-isolation . \
    && /opt/siaga112/bin/python -m pip uninstall --yes --disable-pip-version-check setuptools wheel

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="siaga112" \
      org.opencontainers.image.description="Telegram hub of a city's 112 emergency service" \
      org.opencontainers.image.licenses="MIT"
# A fixed uid, so that a volume or a bind mount can be given to it on any host.
RUN groupadd --system --gid 10001 siaga112 \
    && useradd --no-log-init --uid 10001 --gid siaga112 --create-home \
        --home-dir /home/siaga112 --shell /usr/sbin/nologin siaga112 \
    && mkdir -p /var/lib/siaga112 \
    && chown siaga112:siaga112 /var/lib/siaga112
COPY --from=builder /opt/siaga112 /opt/siaga112
COPY deploy/docker-entrypoint.sh /usr/local/bin/siaga112-entrypoint
ENV PATH=/opt/siaga112/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/var/lib/siaga112/siaga112.db \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8112
# Numeric, so that a runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
# matplotlib's font cache (the digest's charts), built once here instead of in every container.
RUN python -c "import matplotlib.font_manager"
# The working directory is the volume too: a relative DATABASE_PATH (.env.example's data/…)
# still lands in it.
WORKDIR /var/lib/siaga112
VOLUME /var/lib/siaga112
EXPOSE 8112
# Liveness as the bot itself reports it (503 names the part that stopped). The slim image has no
# curl; WEB_PORT from the environment, should .env move it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('WEB_PORT', '8112') + '/healthz', timeout=4)"]
# The bot finishes the send in flight on SIGTERM; compose.yaml gives it 20 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["siaga112-entrypoint"]
CMD []
