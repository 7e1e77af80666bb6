# One Dockerfile, two images: `--target source-server` and `--target client-server`.
# Both services share every dependency and all of services/runtime, protocol and engine, so they
# share the build stages (built once, cached once) and differ only in the last
# few lines: port, healthcheck and command. Each still gets its own image named
# after its service (eventrelay/source-server, eventrelay/client-server), the
# same name as its compose service and its Kubernetes Deployment.
#
# Base: Node 24 LTS on Debian bookworm-slim, pinned to a release. To pin the
# exact bytes as well, append the digest that `docker buildx imagetools inspect
# node:24.21.0-bookworm-slim` prints: FROM node:24.21.0-bookworm-slim@sha256:<digest>.
# No apk/apt-get here: CI builds on stand-in base images without a package manager.

# ---- production dependencies only (no compiler, no test tools) -------------
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- compile TypeScript with the full dev toolchain -------------------------
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY services ./services
COPY sdk ./sdk
COPY cli ./cli
# tsc for the services, then esbuild for the browser SDK the client-server serves at /sdk/eventrelay.js.
RUN npx tsc -p tsconfig.build.json && npx tsx sdk/build.ts

# ---- what both images share at run time --------------------------------------
FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/services ./dist/services
# The console page and the SDK bundle, served by the client-server (console-routes.ts).
COPY --from=build /app/services/client-server/console ./services/client-server/console
COPY --from=build /app/sdk/dist ./sdk/dist
COPY package.json ./
# By number, not name, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 1000
# The services handle SIGTERM themselves (readiness off, drain, exit); node runs
# as the main process (compose adds `init: true` for signal forwarding and zombie reaping).
STOPSIGNAL SIGTERM

# ---- source-server: producers publish here ------------------------------------
FROM runtime AS source-server
EXPOSE 8080
# fetch is built into Node; the slim image has no curl or wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SOURCE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/services/source-server/main.js"]

# ---- client-server: subscribers connect here (last, so it is also the default target)
FROM runtime AS client-server
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CLIENT_PORT||8081)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/services/client-server/main.js"]
