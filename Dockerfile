# AttendNC production image: gunicorn serves the web; the same image runs the Celery worker and
# beat (docker-compose.yml sets their commands).
FROM python:3.11-slim-bookworm

# settings.py finds templates/ and static/ beside the attendnc package, so the app runs from
# the source tree in /app (PYTHONPATH); `pip install` brings the dependencies.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    MEDIA_ROOT=/data/media \
    XDG_CACHE_HOME=/tmp/.cache

# WeasyPrint (PDF letters and reports) loads Pango and HarfBuzz at run time and needs fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 attendnc \
    && useradd --system --uid 10001 --gid attendnc --home-dir /app --no-create-home attendnc

WORKDIR /app
COPY . /app
RUN pip install --require-hashes -r /app/requirements.lock \
    && pip install --no-deps /app && rm -rf /app/build /app/*.egg-info

# Static files are collected and the translations compiled (locale/*.po into .mo) at build time,
# so containers start without writing to the image. DEBUG and SECRET_KEY exist only for these steps.
RUN DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput -v 0 \
    && DEBUG=0 SECRET_KEY=compilemessages-only-not-a-secret python manage.py compilemessages -v 0 \
    && mkdir -p /data/media \
    && chown -R attendnc:attendnc /data

USER attendnc
EXPOSE 8000
CMD ["gunicorn", "attendnc.wsgi", "--bind=0.0.0.0:8000", "--workers=3", "--access-logfile=-"]
