# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

# PYTHONPATH: the code runs from /app, where templates/ and static/ sit beside it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

RUN useradd --system --create-home --home-dir /home/app --uid 10001 app

# WeasyPrint (report PDFs) draws text with Pango; DejaVu gives it fonts to draw with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, as their own layer: editing the code does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Only what the application needs (no .venv, var/, .env or .git from the build context);
# a new top-level package or folder the app reads must be added here.
COPY manage.py ./
COPY config ./config
COPY strategy ./strategy
COPY tracking ./tracking
COPY templates ./templates
COPY static ./static
# var/ holds collected static files, uploads (a volume) and the beat schedule: the
# unprivileged user must be able to write there and nowhere else.
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && mkdir -p /app/var/media /app/var/static \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
