import {
  loadAuthProto,
  type ListRevokedSessionsRequest,
  type ListRevokedSessionsResponse,
} from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import { createMetrics, GrpcServer } from '@mpb/service-kit';

export interface RevocationFeedStandIn {
  /** host:port to hand a service as AUTH_GRPC_ADDR. */
  address: string;
  /** Lists a session as revoked, its tokens expiring in `ttlSeconds`. */
  revoke(sessionId: string, ttlSeconds?: number): void;
  /** How many times the feed was read. */
  reads(): number;
  close(): Promise<void>;
}

/**
 * A real gRPC `blog.auth.v1.SessionRevocationService` over a list in memory, for the services'
 * tests, which run without auth: the service under test follows it with its real client.
 */
export async function startRevocationFeedStandIn(): Promise<RevocationFeedStandIn> {
  const revoked: { sessionId: string; expiresAtMs: number }[] = [];
  let reads = 0;
  const server = new GrpcServer({
    logger: createLogger({ service: 'auth-stand-in', level: 'silent' }),
    metrics: createMetrics('auth_stand_in'),
  });
  server.add(
    'blog.auth.v1.SessionRevocationService',
    loadAuthProto().blog.auth.v1.SessionRevocationService.service,
    {
      ListRevokedSessions: async (
        request: ListRevokedSessionsRequest,
      ): Promise<ListRevokedSessionsResponse> => {
        reads += 1;
        const after = /^[0-9]+$/.test(request.cursor ?? '') ? Number(request.cursor) : 0;
        return {
          sessions: revoked
            .slice(after)
            .map((r) => ({ session_id: r.sessionId, expires_at_unix_ms: r.expiresAtMs })),
          next_cursor: String(revoked.length),
          has_more: false,
          reset: after === 0,
        };
      },
    },
  );
  const port = await server.listen(0);
  return {
    address: `127.0.0.1:${port}`,
    revoke: (sessionId, ttlSeconds = 900) => {
      revoked.push({ sessionId, expiresAtMs: Date.now() + ttlSeconds * 1000 });
    },
    reads: () => reads,
    close: () => server.close(),
  };
}
