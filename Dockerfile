# syntax=docker/dockerfile:1
# One image for every node of the shop; SERVICES picks what a container runs.
#   docker build -t moleculer-shop .
#   docker run -e SERVICES=users -e TRANSPORTER=nats://... moleculer-shop

ARG NODE_VERSION=24

# 1. Build: install everything, transpile the TypeScript to plain ESM JavaScript (esbuild,
#    one .js per .ts; imports already end in .js). Types are checked by `npm run typecheck` in CI.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json moleculer.config.ts ./
COPY lib ./lib
COPY mixins ./mixins
COPY services ./services
COPY scripts ./scripts
RUN npx esbuild moleculer.config.ts $(find lib mixins services scripts -name '*.ts') \
      --outdir=dist --outbase=. --platform=node --format=esm --target=node${NODE_VERSION} --log-level=warning

# 2. Production dependencies only.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime: compiled code, production node_modules, an unprivileged user.
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=3030 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000 3030
# Readiness of this node (transporter, database, events, outbox), served next to its metrics.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||3030)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node is PID 1 and stops cleanly on SIGTERM (scripts/start.ts drains in-flight work).
CMD ["node", "scripts/start.js"]
