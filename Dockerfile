# DL Grader: one image for the web service. Configure with DLGRADER_* environment variables.
FROM python:3.11-slim-bookworm

# CJK fonts and Chromium: exam PDFs are printed by Chromium and contain Chinese text.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-noto-cjk fonts-dejavu-extra fontconfig curl \
 && rm -rf /var/lib/apt/lists/* \
 && fc-cache -f

RUN useradd --create-home --uid 10001 dlgrader
WORKDIR /srv/dlgrader

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY grader ./grader
COPY problems ./problems
COPY templates ./templates
COPY migrations ./migrations
RUN pip install --no-cache-dir -e . && mkdir -p /data && chown dlgrader /data

USER dlgrader
ENV DLGRADER_DATABASE_URL=sqlite:////data/dlgrader.db \
    DLGRADER_SECRET_KEY_FILE=/data/.dlgrader-secret \
    WORKERS=2
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["sh", "-c", "exec dlgrader serve --host 0.0.0.0 --port 8000 --workers ${WORKERS}"]
