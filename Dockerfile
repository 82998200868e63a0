# One image per service: docker build --build-arg APP=ingest -t payrail/ingest .
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG APP
RUN NX_DAEMON=false npx nx build ${APP} && npx nx build payrail-cli

FROM node:22-bookworm-slim
ARG APP
ENV NODE_ENV=production APP=${APP}
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/dist/apps/${APP}/package.json ./package.json
COPY package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund
COPY --from=build /src/dist/apps/${APP} ./
COPY --from=build /src/dist/apps/payrail-cli ./cli
COPY apps/fraud-check/rules /app/rules
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "main.js"]
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
