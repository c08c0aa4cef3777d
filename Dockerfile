# syntax=docker/dockerfile:1
# kconmon image: `kconmon agent` (the default command) or `kconmon controller`, as the Helm chart runs them.
#   docker build -t kconmon:dev .
# Three stages: build (all dependencies, tsc), prod-deps (production dependencies only), and the runtime, which
# receives only dist/, bin/, package.json and the production node_modules. The base is Debian (glibc, Node's tier-1
# platform); --build-arg NODE_IMAGE=node:24-alpine works too (the dependencies are pure JavaScript). Pin the base by
# digest in your registry for reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile src/ to dist/ ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (tsc) needs the sources copied below, and the `node` devDependency's install script
# would fetch a second Node.js (the image has Node 24 already).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: production dependencies only ----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: no production dependency needs one. Type declarations, TypeScript sources, source maps and
# docs are not loaded at run time: removing them halves node_modules (about 103 MB to 51 MB).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.md' \) -delete

# --- runtime ------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="kconmon" \
      org.opencontainers.image.description="Node-to-node connectivity monitoring for Kubernetes (agent and controller)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# V8 sizes its young generation from the host's memory (up to 128 MiB on a large node): a small one keeps the agent's
# RSS low at no measurable CPU cost (docs/benchmarks.md). Override NODE_OPTIONS to change it.
ENV NODE_OPTIONS=--max-semi-space-size=1
WORKDIR /app
# Owned by root and read-only for the process: the pod runs with readOnlyRootFilesystem anyway.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The base image's unprivileged "node" user, numerically, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# One port for HTTP and the UDP echo (config `port`); the controller listens on its own config's port.
EXPOSE 8080/tcp 8080/udp
# Exec form: Node is PID 1 and receives SIGTERM itself; kconmon handles SIGTERM/SIGINT (graceful shutdown) and
# starts no child processes, so no init process (tini) is needed to forward signals or reap zombies.
# No HEALTHCHECK: Kubernetes ignores it (the chart's probes use /healthz and /readyz), and the port is configurable.
ENTRYPOINT ["node", "bin/kconmon.js"]
CMD ["agent"]
