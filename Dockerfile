# The StretchHub image: web (gunicorn), Celery worker and beat all run from it
# (see docker-compose.yml). Build: docker compose build
FROM python:3.11-slim

# Production for every process in the image, manage.py included.
ENV DJANGO_DEBUG=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Pango and fonts for the printable handout (WeasyPrint); the same list CI and `make` check.
COPY .ci/system-packages /usr/local/bin/stretchhub-system-packages
RUN stretchhub-system-packages && rm -rf /var/lib/apt/lists/*

# Only the runtime lock (requirements.txt): no test or dev tools in the image.
# Every file must match its hash; the lock is complete, so --no-deps lets no
# unpinned package in. Copied alone so code changes do not reinstall it.
COPY requirements.txt .
RUN pip install --require-hashes --no-deps -r requirements.txt

COPY . .

# Static files are collected (hashed and compressed by whitenoise) into the
# image, and the translations compiled (.mo files are built, never committed;
# GNU gettext's msgfmt does it and is removed again in the same layer).
# Neither step touches a database or signs anything: the key and URLs below
# exist only for this RUN line and never reach the running container.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && export DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY=collectstatic-build-time-only \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=sqlite:////tmp/unused.sqlite3 \
    CELERY_BROKER_URL=redis://build.invalid:6379/0 \
    REDIS_URL=redis://build.invalid:6379/1 \
    MEDIA_S3_BUCKET=build-time-only \
    MEDIA_S3_PUBLIC_URL=https://build.invalid \
    VAPID_PRIVATE_KEY="$(python -c 'from stretchhub.vapid import new_private_key; print(new_private_key())')" \
 && python manage.py compilemessages \
 && python manage.py collectstatic --noinput \
 && apt-get purge -y gettext && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && rm -rf var /tmp/unused.sqlite3

# Code and static files stay root-owned (read-only to the app); the process
# may write only var/ (beat's schedule file).
RUN useradd --system --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir var \
 && chown app:app var
USER app

EXPOSE 8000
# gunicorn reads gunicorn.conf.py from the working directory.
CMD ["gunicorn", "stretchhub.wsgi"]
