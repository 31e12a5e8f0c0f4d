import {
  loadAuthProto,
  parseId,
  type ListRevokedSessionsRequest,
  type ListRevokedSessionsResponse,
  type GetUserRequest,
  type GetUsersRequest,
  type GetUsersResponse,
  type User as GrpcUser,
} from '@mpb/contracts';
import { badRequest } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import { GrpcServer, requireId, type ServiceMetrics } from '@mpb/service-kit';
import type { AuthService } from '../domain/auth-service';
import type { User } from '../domain/user';

export const USER_SERVICE = 'blog.auth.v1.UserService';
export const SESSION_REVOCATION_SERVICE = 'blog.auth.v1.SessionRevocationService';
export const MAX_IDS_PER_CALL = 100;

export interface GrpcDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  auth: AuthService;
}

const toGrpcUser = (u: User): GrpcUser => ({
  id: u.id,
  name: u.name,
  username: u.username,
  ...(u.age === null ? {} : { age: u.age }),
  is_active: u.isActive,
  created_at: u.createdAt.toISOString(),
});

/**
 * Public profiles only: other services never receive e-mail or password data. Revoked sessions as
 * ids and expiry times only.
 */
export function createGrpcServer({ logger, metrics, auth }: GrpcDeps): GrpcServer {
  const server = new GrpcServer({ logger, metrics });
  server.add(USER_SERVICE, loadAuthProto().blog.auth.v1.UserService.service, {
    GetUser: async (request: GetUserRequest): Promise<GrpcUser> => {
      const id = requireId(request.id, 'invalid user id');
      return toGrpcUser(await auth.activeUser(id));
    },
    GetUsers: async (request: GetUsersRequest): Promise<GetUsersResponse> => {
      const requested = request.ids ?? [];
      if (requested.length > MAX_IDS_PER_CALL) throw badRequest(`at most ${MAX_IDS_PER_CALL} ids per call`);
      // Ids that cannot exist are simply unknown, like ids that do not.
      const ids = [...new Set(requested.map(parseId).filter((id): id is number => id !== undefined))];
      const byId = new Map((await auth.activeUsers(ids)).map((u) => [u.id, u]));
      return {
        users: ids.flatMap((id) => {
          const user = byId.get(id);
          return user ? [toGrpcUser(user)] : [];
        }),
      };
    },
  });
  server.add(SESSION_REVOCATION_SERVICE, loadAuthProto().blog.auth.v1.SessionRevocationService.service, {
    ListRevokedSessions: async (
      request: ListRevokedSessionsRequest,
    ): Promise<ListRevokedSessionsResponse> => {
      const page = await auth.revokedSessions(request.cursor ?? '', request.limit ?? 0);
      return {
        sessions: page.sessions.map((s) => ({
          session_id: s.sessionId,
          expires_at_unix_ms: s.expiresAt.getTime(),
        })),
        next_cursor: page.nextCursor,
        has_more: page.hasMore,
        reset: page.reset,
      };
    },
  });
  return server;
}
