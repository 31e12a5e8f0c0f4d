import type { ServerUnaryCall } from '@grpc/grpc-js';
import {
  loadMetricsProto,
  parseId,
  type GetCountsRequest,
  type GetCountsResponse,
  type PostCounts,
  type RecordViewRequest,
  type RecordViewResult,
  type RecordViewsRequest,
  type RecordViewsResponse,
  type TraceContext,
} from '@mpb/contracts';
import { badRequest, toAppError } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import {
  GrpcServer,
  parseTraceContext,
  requireId,
  traceContextOfCall,
  type ServiceMetrics,
} from '@mpb/service-kit';
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

/** At most this many views per RecordViews call. */
export const MAX_VIEWS_PER_CALL = 500;

/**
 * Views and counts for posts (the posts service calls it on every read). RecordViews takes the views
 * posts received at the same moment in one call: each goes through the same recordView as a single
 * call (its own Redis script, all of them sent in one round trip by the client's auto-pipelining,
 * and its own event, published in one batch with the others), and is answered on its own.
 */
export function createGrpcServer({ logger, metrics, service }: GrpcDeps): GrpcServer {
  const server = new GrpcServer({ logger, metrics });
  const recordView = async (request: RecordViewRequest, trace: TraceContext): Promise<PostCounts> => {
    const postId = requireId(request.post_id, Messages.invalidPostId);
    const view = await service.recordView(postId, viewerOf(request.viewer_id), {
      address: typeof request.viewer_address === 'string' ? request.viewer_address : '',
      trace,
    });
    return { ...toGrpc(view), already_counted: !view.counted };
  };
  server.add(METRICS_SERVICE, loadMetricsProto().blog.metrics.v1.MetricsService.service, {
    RecordView: (
      request: RecordViewRequest,
      call: ServerUnaryCall<RecordViewRequest, PostCounts>,
    ): Promise<PostCounts> =>
      // The call's own span: the event continues the caller's trace as a child of this call.
      recordView(request, traceContextOfCall(call)),
    RecordViews: async (
      request: RecordViewsRequest,
      call: ServerUnaryCall<RecordViewsRequest, RecordViewsResponse>,
    ): Promise<RecordViewsResponse> => {
      const views = request.views ?? [];
      if (views.length > MAX_VIEWS_PER_CALL) throw badRequest(`at most ${MAX_VIEWS_PER_CALL} views per call`);
      const callTrace = traceContextOfCall(call);
      const results = await Promise.all(
        views.map(async (view): Promise<RecordViewResult> => {
          // Each view's event continues the trace of the read it came from, when the caller sent it.
          const own = parseTraceContext(view.traceparent, view.tracestate);
          try {
            return { counts: await recordView(view, own.traceparent ? own : callTrace) };
          } catch (err) {
            const refused = toAppError(err);
            if (refused.code === 'INTERNAL') logger.error(errorFields(err), 'a batched view failed');
            return { error_code: refused.code, error_message: refused.publicMessage };
          }
        }),
      );
      return { results };
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
