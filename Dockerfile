# syntax=docker/dockerfile:1
# kconmon image: `kconmon agent` (the default command) or `kconmon controller`, as the Helm chart runs them.
#   docker build -t kconmon:dev .
# Two stages: build (all dependencies, then esbuild bundles the CLI and its dependencies into dist/: one entry and one
# lazily loaded chunk per command, about 3 MB) and the runtime, which receives only dist/, bin/ and package.json — no
# node_modules at all. The base is Debian (glibc, Node's tier-1 platform); --build-arg NODE_IMAGE=node:24-alpine works
# too. Pin the base by digest in your registry for reproducible builds. BUILD_IMAGE (default: NODE_IMAGE) needs npm
# and a shell; the runtime base needs only node on PATH and a user 1000. scripts/image/build.sh builds this file with
# buildah on bases made locally (no registry pull): see docs/benchmarks.md#image for the sizes.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG BUILD_IMAGE=${NODE_IMAGE}

# --- build: bundle src/ and the production dependencies into dist/ ------------------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency's install script would fetch a second Node.js (the image has Node 24
# already), and `prepare` (tsc) is not needed. esbuild's native binary comes as an optional dependency, no script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts/image/bundle.ts ./scripts/image/
RUN npm run bundle

# --- runtime ------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="kconmon" \
      org.opencontainers.image.description="Node-to-node connectivity monitoring for Kubernetes (agent and controller)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# No NODE_OPTIONS: the agent and controller set the V8 flags they need themselves (src/util/runtime-flags.ts:
# --max-semi-space-size=1, and --optimize-for-size for the agent), so a NODE_OPTIONS given through agent.extraEnv adds to them instead of
# silently replacing them.
WORKDIR /app
# Owned by root and read-only for the process: the pod runs with readOnlyRootFilesystem anyway. package.json is read
# for the version (`kconmon --version`, the kconmon_agent_info metric).
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The controller's web view (plain HTML, CSS and JavaScript, served at /), found beside dist/.
COPY web ./web
# The base image's unprivileged "node" user, numerically, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# One port for HTTP and the UDP echo (config `port`); the controller listens on its own config's port.
EXPOSE 8080/tcp 8080/udp
# Exec form: Node is PID 1 and receives SIGTERM itself; kconmon handles SIGTERM/SIGINT (graceful shutdown) and
# starts no child processes, so no init process (tini) is needed to forward signals or reap zombies.
# No HEALTHCHECK: Kubernetes ignores it (the chart's probes use /healthz and /readyz), and the port is configurable.
ENTRYPOINT ["node", "bin/kconmon.js"]
CMD ["agent"]
