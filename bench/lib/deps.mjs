// Benchmarks use the libraries the services already depend on (no dependencies of their own).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const requireFromGateway = createRequire(path.join(here, '../../services/gateway/package.json'));
export const requireFromMetrics = createRequire(path.join(here, '../../services/metrics/package.json'));
