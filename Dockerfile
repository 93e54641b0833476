# syntax=docker/dockerfile:1
# One image for every node of the shop; SERVICES picks what a container runs.
#   docker build -t moleculer-shop .
#   docker run -e SERVICES=users -e TRANSPORTER=nats://... moleculer-shop

ARG NODE_VERSION=24

# 1. Build: install everything, compile the TypeScript with tsc (`npm run build`: dist/) and the
#    web shop with Vite (web/dist).
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY web/package.json ./web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json moleculer.config.ts ./
COPY lib ./lib
COPY mixins ./mixins
COPY services ./services
COPY scripts ./scripts
COPY web ./web
RUN npm run build

# 2. Production dependencies only.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY web/package.json ./web/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime: compiled code and the built web shop, production node_modules, an unprivileged user.
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=3030 \
    DATA_DIR=/data \
    WEB_BUILD=false
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000 3030
# Readiness of this node (transporter, database, events, outbox), served next to its metrics.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||3030)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Plain node on the compiled code (no tsx at run time); node is PID 1 and drains on SIGTERM.
CMD ["node", "dist/scripts/start.js"]
