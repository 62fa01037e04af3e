# Veilleur service image. TypeScript runs through tsx (no build step); the heap limit keeps the service's memory
# bounded under bursts (its live set is far below it).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY services ./services
COPY decoders ./decoders
COPY tsconfig.json ./
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 HTTP_PORT=8080 DATA_DIR=/var/lib/veilleur
VOLUME /var/lib/veilleur
EXPOSE 8080
USER node
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-old-space-size=112", "--max-semi-space-size=8", "bin/veilleur.js", "serve"]
