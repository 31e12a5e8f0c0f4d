import type { Logger } from '@mpb/logger';
import { GrpcServer, type ServiceMetrics } from '@mpb/service-kit';

/**
 * attachments serves no RPC of its own yet; the server carries the standard grpc.health.v1.Health,
 * so the platform probes every service the same way.
 */
export function createGrpcServer(d: { logger: Logger; metrics: ServiceMetrics }): GrpcServer {
  return new GrpcServer(d);
}
