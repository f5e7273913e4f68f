# The relay's api and worker: one image, two commands (`api`, `worker`). Node 22: every dependency supports it
# (three declare engines >= 22; the tests prove they also run on Node 20). Debian-based: Temporal's native bridge
# has no musl build.

# Build: every dependency, tsc, and the workflow bundle (webpack runs here, once, never in the container).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-workflow-bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

# Run: production dependencies, the compiled code with its bundle (dist/workflow-bundle.js) and the examples; no
# TypeScript sources, no compiler, no dev dependencies.
FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY examples ./examples
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
# The node image's unprivileged user (uid 1000); the relay writes nothing to disk.
USER node
# api: RELAY_HTTP_PORT; worker: RELAY_WORKER_HTTP_PORT (/healthz, /readyz, /metrics).
EXPOSE 8080 8081
# Reads which command runs (api or worker) and asks that process's /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=4 CMD ["node", "deploy/healthcheck.mjs"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["worker"]
