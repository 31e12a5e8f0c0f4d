import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  grpcDuration: Histogram<'method' | 'code'>;
  errors: Counter<'kind'>;
}

/** One registry per service, with the default process metrics and HTTP/gRPC rate, errors and duration. */
export function createMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets,
      registers: [registry],
    }),
    grpcDuration: new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'gRPC calls handled, by method and status code',
      labelNames: ['method', 'code'],
      buckets,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'service_errors_total',
      help: 'Unexpected errors by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}
