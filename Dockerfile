# One image for every GridLoop service; the service is chosen by the command (python -m gridloop.<name>).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir --no-deps --no-build-isolation ./shared ./services/directory ./services/intake \
        ./services/dispatch ./services/handling ./services/feedback ./services/supervision \
    && useradd --system --uid 10001 gridloop
USER gridloop
ENV GRIDLOOP_HOST=0.0.0.0 GRIDLOOP_ENVIRONMENT=production
CMD ["python", "-m", "gridloop.intake"]
