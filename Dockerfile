# One image for every GridLoop service; the service is chosen by the command (python -m gridloop.<name>).
# The web service serves its front-end packages itself (pinned in services/web/package-lock.json).
FROM node:20-slim AS web-assets
WORKDIR /web
COPY services/web/package.json services/web/package-lock.json services/web/.npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir --no-deps --no-build-isolation ./shared ./services/directory ./services/intake \
        ./services/dispatch ./services/handling ./services/feedback ./services/supervision ./services/cobuild ./services/web \
    && useradd --system --uid 10001 gridloop
# after `COPY services`: replaces whatever a checkout's node_modules held (.dockerignore leaves it out)
COPY --from=web-assets /web/node_modules ./services/web/node_modules
USER gridloop
ENV GRIDLOOP_HOST=0.0.0.0 GRIDLOOP_ENVIRONMENT=production
CMD ["python", "-m", "gridloop.intake"]
