# fleet-tracker image: one image, any subcommand (`simulate`, `process`, `serve`, `gateway`, `replay`...).
# Build: docker build -t fleet-tracker .   Run: docker run --env-file prod.env fleet-tracker process

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script compiles src/, which is not copied yet (installing first keeps
# the dependency layer cached across source changes). The only dependency with an install script is
# esbuild, a dev-only dependency of tsx/vitest that the build (tsc) does not use.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 GATEWAY_PORT=5055 DUCKDB_PATH=/data/fleet.duckdb
# V8 heap cap (src/config/runtime.ts PROCESSOR_HEAP_MB): keeps the processor's RSS near its live set.
ENV NODE_OPTIONS=--max-old-space-size=128
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY kafka/pom.xml ./kafka/pom.xml
COPY src/api/public ./dist/api/public
RUN mkdir -p /data && chown node:node /data
USER node
# No image-wide HEALTHCHECK: each subcommand serves a different port (or none, like `topics create`),
# and ECS ignores a Dockerfile HEALTHCHECK anyway. The task definitions in infra/ carry one check per
# service (gateway :5055/healthz, api :8080/healthz with the load balancer on /readyz, processor
# :9464/healthz). The processor's metrics server binds to METRICS_HOST (default 127.0.0.1), where the
# in-container check asks; publishing 9464 beyond the container needs METRICS_HOST=0.0.0.0 and METRICS_KEY.
VOLUME ["/data"]
EXPOSE 8080 5055 9464
ENTRYPOINT ["node", "bin/fleet.js"]
CMD ["--help"]
