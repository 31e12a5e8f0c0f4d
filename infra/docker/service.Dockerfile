# One image recipe for every service: build the monorepo slice, then ship production deps only.
#   docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=auth -t mpb/auth:local .
# The build stage is the same for the six services, so the build cache serves it once: dependencies
# are fetched from the lockfile alone (source edits do not refetch them), every service is compiled
# and deployed there; each image then copies its own service's folder.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 CI=1
WORKDIR /repo
# An intercepting proxy's CA, when the host has one (see infra/docker/build-ca/README.md); this
# stage only. Some corepack releases carry outdated npm signing keys: the retry skips the key check
# (the registry's integrity hash is still verified), as infra/local/bootstrap.sh does.
COPY infra/docker/build-ca/ /tmp/build-ca/
RUN touch /tmp/build-ca/extra-ca.pem
ENV NODE_EXTRA_CA_CERTS=/tmp/build-ca/extra-ca.pem
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN corepack enable \
 && { corepack pnpm --version >/dev/null 2>&1 || COREPACK_INTEGRITY_KEYS=0 corepack pnpm --version >/dev/null; } \
 && pnpm fetch
COPY turbo.json tsconfig.base.json jest.preset.js ./
COPY proto ./proto
COPY packages ./packages
COPY services ./services
RUN pnpm install --offline --frozen-lockfile --filter "./packages/**" --filter "./services/**" \
 && pnpm exec turbo run build --filter "./services/*" --output-logs=errors-only
RUN for dir in services/*/; do \
      s=$(basename "$dir"); pnpm deploy --legacy --filter "@mpb/$s" --prod "/out/$s" >/dev/null || exit 1; \
    done

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production HOST=0.0.0.0
# V8's young generation capped at 4 MiB per semi-space, as infra/local/services.mjs does for local
# runs: uncapped it grows to 16 MiB per semi-space under load in every service (RSS past 150 MiB).
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY --from=build --chown=node:node /out/${SERVICE} ./
RUN test -f dist/src/main.js
USER node
# Every service answers /livez on HTTP_PORT (3000 in containers).
ENV HTTP_PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HTTP_PORT+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
