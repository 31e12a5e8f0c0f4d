import type { ServerUnaryCall } from '@grpc/grpc-js';
import {
  loadMetricsProto,
  parseId,
  type GetCountsRequest,
  type GetCountsResponse,
  type PostCounts,
  type RecordViewRequest,
} from '@mpb/contracts';
import { badRequest } from '@mpb/errors';
import type { Logger } from '@mpb/logger';
import { GrpcServer, requireId, traceContextOfCall, type ServiceMetrics } from '@mpb/service-kit';
import type { Counts } from '../domain/counts';
import { parseViewerId } from '../domain/ids';
import { MAX_POSTS_PER_CALL, Messages, type MetricsService } from '../domain/metrics-service';

export const METRICS_SERVICE = 'blog.metrics.v1.MetricsService';

export interface GrpcDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  service: MetricsService;
}

const toGrpc = (c: Counts): PostCounts => ({
  post_id: c.postId,
  likes: c.likes,
  views: c.views,
  liked_by_viewer: c.likedByViewer,
});

function viewerOf(raw: unknown): number {
  const viewer = parseViewerId(raw);
  if (viewer === undefined) throw badRequest('invalid viewer id');
  return viewer;
}

/** Views and counts for posts (the posts service calls it on every read). */
export function createGrpcServer({ logger, metrics, service }: GrpcDeps): GrpcServer {
  const server = new GrpcServer({ logger, metrics });
  server.add(METRICS_SERVICE, loadMetricsProto().blog.metrics.v1.MetricsService.service, {
    RecordView: async (
      request: RecordViewRequest,
      call: ServerUnaryCall<RecordViewRequest, PostCounts>,
    ): Promise<PostCounts> => {
      const postId = requireId(request.post_id, Messages.invalidPostId);
      const view = await service.recordView(postId, viewerOf(request.viewer_id), {
        address: typeof request.viewer_address === 'string' ? request.viewer_address : '',
        // The call's own span: the event continues the caller's trace as a child of this call.
        trace: traceContextOfCall(call),
      });
      return { ...toGrpc(view), already_counted: !view.counted };
    },
    GetCounts: async (request: GetCountsRequest): Promise<GetCountsResponse> => {
      const requested = request.post_ids ?? [];
      if (requested.length > MAX_POSTS_PER_CALL)
        throw badRequest(`at most ${MAX_POSTS_PER_CALL} posts per call`);
      // Ids that cannot exist are left out; duplicates are answered once, in the order first asked.
      const ids = [...new Set(requested.map(parseId).filter((id): id is number => id !== undefined))];
      const counts = await service.getCounts(ids, viewerOf(request.viewer_id));
      return { counts: counts.map(toGrpc) };
    },
  });
  return server;
}
