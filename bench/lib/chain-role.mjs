// One process of the bare chain (see chain.mjs): `upstream` answers GET /incr/:id with one Redis
// INCR; `gateway <url>` proxies everything to it with http-proxy-middleware and a keep-alive agent.
import http from 'node:http';
import { requireFromGateway } from './deps.mjs';

const express = requireFromGateway('express');
const app = express();
if (process.argv[2] === 'upstream') {
  const { Redis } = requireFromGateway('ioredis');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  app.get('/incr/:id', async (req, res) =>
    res.json({ views: await redis.incr(`bench:chain:${req.params.id}`) }),
  );
} else {
  const { createProxyMiddleware } = requireFromGateway('http-proxy-middleware');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  app.use(createProxyMiddleware({ target: process.argv[3], agent, changeOrigin: true }));
}
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
