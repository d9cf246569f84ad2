# syntax=docker/dockerfile:1
# The panel API: `docker build -t panel-api .` then run with DATABASE_URL and BETTER_AUTH_SECRET
# (see docker-compose.yml). Without DATABASE_URL it uses the embedded database under /app/.data.

FROM node:20-slim AS base
ENV COREPACK_INTEGRITY_KEYS=0 \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 \
    CI=true
RUN corepack enable
WORKDIR /app
# only the manifests, so dependency layers are cached until the lockfile changes
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY apps/api/package.json apps/api/
COPY packages/db/package.json packages/db/
COPY packages/protocol/package.json packages/protocol/
RUN corepack install

# runtime dependencies only (what the bundle leaves external: better-auth, hono, drizzle-orm, ...)
FROM base AS prod-deps
RUN pnpm install --prod --frozen-lockfile

FROM base AS build
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm --filter @panel/api build

FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3001 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /app/apps/api/package.json ./apps/api/package.json
COPY --from=prod-deps /app/apps/api/node_modules ./apps/api/node_modules
COPY --from=build /app/apps/api/dist ./apps/api/dist
# migrations: found by walking up from the bundle, applied on start
COPY drizzle ./drizzle
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3001) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The heap may grow 1.5x past live memory before a full collection, not V8's up-to-4x after a
# burst such as a connect storm: about 10 KiB RSS per socket instead of 20-25 (README, Performance).
CMD ["node", "--heap-growing-percent=50", "apps/api/dist/index.js"]
