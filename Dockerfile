# The relay's api and worker (one image, two commands). Node 22: every dependency supports it (three declare
# engines >= 22; the tests prove they also run on Node 20). Debian-based: Temporal's native bridge has no musl build.
FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY bin ./bin
COPY src ./src
COPY examples ./examples
COPY tsconfig.json ./
USER node
ENTRYPOINT ["node", "bin/relay.js"]
CMD ["worker"]
