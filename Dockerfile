# One image for every closetflow process: the API (default command), each domain worker
# (`npm run worker -- --domain <name>`), migrations (`npm run db:migrate`) and the simulators.
# See docker-compose.yml. Configuration is environment variables only (config/index.ts).
FROM node:20-slim

WORKDIR /app
RUN chown node:node /app
USER node

COPY --chown=node:node package.json package-lock.json ./
# Full install: the processes run TypeScript through tsx, and workers bundle workflow code at start.
RUN npm ci && npm cache clean --force

COPY --chown=node:node . .

ENV NODE_ENV=production
EXPOSE 3000
CMD ["npm", "run", "api"]
