# syntax=docker/dockerfile:1
# One image per deployable, from one Dockerfile:
#   docker build --build-arg APP=ingest -t payrail/ingest .        (ingest | signing | fraud-check | settlement)
#   docker build --build-arg APP=payrail-cli -t payrail/payrail-cli .   (operators' CLI: topics ensure, dlq, ...)
# The runtime image holds only the app's bundle, the production dependencies Nx listed for it (its generated
# package.json and the lock file pruned from the root package-lock.json), tini and Node. It runs as a numeric
# non-root user and writes nothing outside /tmp, so it runs with a read-only root filesystem.
# deploy/dockerfile.spec.ts checks these properties; keep them when editing.
ARG NODE_IMAGE=node:24-trixie-slim

# --- build: the whole workspace, dev dependencies included, builds one app with Nx -------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
COPY patches ./patches
# install scripts stay off; the one Payrail needs, its patches to dependencies (patches/, see docs/kafka-bench.md), is
# applied explicitly
RUN npm ci --no-audit --no-fund --ignore-scripts && npx patch-package --error-on-fail
COPY . .
ARG APP
RUN test -n "${APP}" || { echo "build with --build-arg APP=<ingest|signing|fraud-check|settlement|payrail-cli>" >&2; exit 1; }
RUN NX_DAEMON=false NX_NO_CLOUD=true npx nx build "${APP}" --skip-nx-cache \
 && mkdir -p /out \
 && cp -R "dist/apps/${APP}/." /out/ \
 && cp deploy/docker/healthcheck.cjs /out/healthcheck.cjs \
 && if [ -d "apps/${APP}/rules" ]; then cp -R "apps/${APP}/rules" /out/rules; fi

# --- production dependencies: the Nx-generated package.json with its pruned lock file ---------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=build /out/package.json /out/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
# the patched kafkajs record codec (patches/kafkajs+*.patch), as the build stage applied it
COPY --from=build /src/node_modules/kafkajs/src/protocol/recordBatch/record/v0/ ./node_modules/kafkajs/src/protocol/recordBatch/record/v0/

# --- tini as PID 1: forwards SIGTERM/SIGHUP to Node and reaps zombies -------------------------------------------
FROM ${NODE_IMAGE} AS tini
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# --- runtime --------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG APP
LABEL org.opencontainers.image.title="payrail-${APP}" \
      org.opencontainers.image.source="https://github.com/payrail/payrail" \
      org.opencontainers.image.licenses="Apache-2.0"
# HOME and TMPDIR point at /tmp: the only writable place (an emptyDir / tmpfs volume in Kubernetes and compose)
ENV NODE_ENV=production \
    APP=${APP} \
    HOME=/tmp \
    TMPDIR=/tmp \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY --from=tini /usr/bin/tini-static /usr/bin/tini
# owned by root and not writable by the app's user: the code cannot be changed at run time
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /out ./
# the image's `node` user (uid/gid 1000), numeric so that runAsNonRoot can check it
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.cjs"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "main.js"]
