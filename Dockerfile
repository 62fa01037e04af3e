# Veilleur service image: the TypeScript sources bundled by esbuild (npm run build), run by plain node with heap
# limits that keep the service's memory bounded under bursts (its live set is far below them), 8 MB young-generation
# semi-spaces and one V8 helper thread (measured in docs/performance.md; the same flags as test/bench/node-flags.ts).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY services ./services
COPY decoders ./decoders
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 HTTP_PORT=8080 DATA_DIR=/var/lib/veilleur
RUN mkdir -p /var/lib/veilleur && chown node:node /var/lib/veilleur
VOLUME /var/lib/veilleur
EXPOSE 8080
USER node
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--enable-source-maps", "--max-old-space-size=112", "--max-semi-space-size=8", "--v8-pool-size=1", "--expose-gc", "dist/veilleur.mjs", "serve"]
