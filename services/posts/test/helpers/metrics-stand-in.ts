import {
  loadMetricsProto,
  type GetCountsRequest,
  type GetCountsResponse,
  type PostCounts,
  type RecordViewRequest,
  type RecordViewsRequest,
  type RecordViewsResponse,
} from '@mpb/contracts';
import { createLogger } from '@mpb/logger';
import { createMetrics, GrpcServer, type UnaryHandlers } from '@mpb/service-kit';

export const STAND_IN_LIKES = 7;
export const STAND_IN_VIEWS = 40;

/**
 * A stand-in for the metrics *service*: a real gRPC server on a real port speaking the metrics
 * contract, with fixed counts (7 likes, 40 views before the views it records). It remembers every
 * call so tests can count them, and can be made slow.
 */
export class MetricsStandIn {
  readonly getCountsCalls: Array<{ post_ids: number[]; viewer_id: number }> = [];
  readonly recordViewCalls: Array<{ post_id: number; viewer_id: number; viewer_address: string }> = [];
  /** How many views each RecordViews call carried (each view also lands in recordViewCalls). */
  readonly recordViewsBatches: number[] = [];
  /** Post ids whose views RecordViews refuses with NOT_FOUND, as metrics does for a deleted post. */
  readonly gone = new Set<number>();
  delayMs = 0;
  /** Answer a viewer's second view of a post as `already_counted`, as metrics does within its window. */
  dedup = false;
  private readonly seen = new Set<string>();
  private readonly views = new Map<number, number>();
  private readonly server: GrpcServer;
  port = 0;

  /** `batches: false` leaves RecordViews out (UNIMPLEMENTED), as a metrics from before the call. */
  constructor(o: { batches?: boolean } = {}) {
    this.server = new GrpcServer({
      logger: createLogger({ service: 'metrics-stand-in', level: 'silent' }),
      metrics: createMetrics('metrics-stand-in'),
    });
    const definition = loadMetricsProto().blog.metrics.v1.MetricsService.service;
    const handlers: Omit<UnaryHandlers<typeof definition>, 'RecordViews'> &
      Partial<Pick<UnaryHandlers<typeof definition>, 'RecordViews'>> = {
      RecordView: (req: RecordViewRequest): Promise<PostCounts> => this.recordView(req),
      ...(o.batches === false
        ? {}
        : {
            RecordViews: (req: RecordViewsRequest): Promise<RecordViewsResponse> => this.recordViews(req),
          }),
      GetCounts: async (req: GetCountsRequest): Promise<GetCountsResponse> => {
        const ids = (req.post_ids ?? []).map(Number);
        this.getCountsCalls.push({ post_ids: ids, viewer_id: Number(req.viewer_id) });
        await this.pause();
        return {
          counts: ids.map((id) => ({
            post_id: id,
            likes: STAND_IN_LIKES,
            views: this.viewsOf(id),
            liked_by_viewer: false,
          })),
        };
      },
    };
    // A metrics from before RecordViews leaves it out and the server answers it UNIMPLEMENTED: the one
    // place a partial implementation is wanted, so the typed `add` is told so here.
    this.server.add(
      'blog.metrics.v1.MetricsService',
      definition,
      handlers as UnaryHandlers<typeof definition>,
    );
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Listens on the port given, or a free one. */
  async start(port = 0): Promise<this> {
    this.port = await this.server.listen(port);
    return this;
  }

  stop(): Promise<void> {
    return this.server.close(500);
  }

  callsFor(postId: number): { getCounts: number; recordView: number } {
    return {
      getCounts: this.getCountsCalls.filter((c) => c.post_ids.includes(postId)).length,
      recordView: this.recordViewCalls.filter((c) => c.post_id === postId).length,
    };
  }

  private async recordView(req: RecordViewRequest): Promise<PostCounts> {
    const postId = Number(req.post_id);
    const viewer = { viewer_id: Number(req.viewer_id), viewer_address: req.viewer_address ?? '' };
    this.recordViewCalls.push({ post_id: postId, ...viewer });
    await this.pause();
    const key = `${postId} ${viewer.viewer_id || viewer.viewer_address}`;
    if (this.dedup && this.seen.has(key)) {
      const views = this.viewsOf(postId);
      return {
        post_id: postId,
        likes: STAND_IN_LIKES,
        views,
        liked_by_viewer: false,
        already_counted: true,
      };
    }
    this.seen.add(key);
    const views = this.viewsOf(postId) + 1;
    this.views.set(postId, views);
    return { post_id: postId, likes: STAND_IN_LIKES, views, liked_by_viewer: false };
  }

  private async recordViews(req: RecordViewsRequest): Promise<RecordViewsResponse> {
    const views = req.views ?? [];
    this.recordViewsBatches.push(views.length);
    const results = await Promise.all(
      views.map(async (v) =>
        this.gone.has(Number(v.post_id))
          ? { error_code: 'NOT_FOUND', error_message: 'post not found' }
          : { counts: await this.recordView(v) },
      ),
    );
    return { results };
  }

  private viewsOf(postId: number): number {
    return this.views.get(postId) ?? STAND_IN_VIEWS;
  }

  private pause(): Promise<void> {
    return this.delayMs > 0 ? new Promise((r) => setTimeout(r, this.delayMs)) : Promise.resolve();
  }
}
