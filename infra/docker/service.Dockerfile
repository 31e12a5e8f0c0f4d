# One image recipe for every service: build the monorepo slice, then ship production deps only.
#   docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=auth -t mpb/auth .
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG SERVICE
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0
WORKDIR /repo
RUN corepack enable
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml turbo.json tsconfig.base.json jest.preset.js ./
COPY proto ./proto
COPY packages ./packages
COPY services ./services
RUN pnpm install --frozen-lockfile --filter "@mpb/${SERVICE}..." \
 && pnpm exec turbo run build --filter "@mpb/${SERVICE}..." \
 && pnpm deploy --legacy --filter "@mpb/${SERVICE}" --prod /out

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /out ./
USER node
# Every service answers /livez on HTTP_PORT (3000 in containers).
ENV HTTP_PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HTTP_PORT+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
