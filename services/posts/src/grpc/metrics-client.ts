import { status, type Client, type ServiceError } from '@grpc/grpc-js';
import {
  loadMetricsProto,
  type GetCountsRequest,
  type GetCountsResponse,
  type MetricsServiceClient,
  type PostCounts as GrpcPostCounts,
  type RecordViewRequest,
  type RecordViewsRequest,
  type RecordViewsResponse,
} from '@mpb/contracts';
import { AppError, ERROR_CODES, type ErrorCode } from '@mpb/errors';
import { callUnary, createGrpcClient, currentTraceContext } from '@mpb/service-kit';
import type { PostCounts } from '../domain/post';

/** The metrics service as posts uses it: views recorded one at a time, counts read a page at a time. */
export interface MetricsPort {
  /**
   * Counts one view and returns the counts including it. The viewer is the user, or for an anonymous
   * reader (`viewerId` 0) the client's address; metrics counts a viewer once per post within its
   * window and then answers `alreadyCounted` with the current counts.
   */
  recordView(
    postId: number,
    viewerId: number,
    address?: string,
  ): Promise<PostCounts & { alreadyCounted?: boolean }>;
  /** Counts of up to 100 posts in one call; posts metrics does not know may be missing. */
  getCounts(postIds: number[], viewerId: number): Promise<Map<number, PostCounts>>;
}

export interface MetricsClientOptions {
  /** host:port of metrics' gRPC server. */
  address: string;
  deadlineMs: number;
  /**
   * Most views sent in one RecordViews call (metrics takes up to 500); 1 sends every view in a
   * RecordView call of its own.
   */
  maxViewsPerCall?: number;
}

export interface MetricsClient extends MetricsPort {
  close(): void;
}

type ViewAnswer = PostCounts & { alreadyCounted: boolean };

interface PendingView {
  request: RecordViewRequest;
  resolve: (answer: ViewAnswer) => void;
  reject: (err: unknown) => void;
}

/** After metrics answered that it has no RecordViews (an older version), views go one by one this long. */
const SINGLE_VIEWS_FOR_MS = 30_000;

const toCounts = (c: GrpcPostCounts): PostCounts => ({
  likes: Math.max(0, Number(c.likes ?? 0)),
  views: Math.max(0, Number(c.views ?? 0)),
});

const toAnswer = (c: GrpcPostCounts): ViewAnswer => ({
  ...toCounts(c),
  alreadyCounted: c.already_counted === true,
});

const isErrorCode = (v: unknown): v is ErrorCode =>
  typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);

const isUnimplemented = (err: unknown): boolean =>
  (err as { cause?: Partial<ServiceError> }).cause?.code === status.UNIMPLEMENTED;

/**
 * Metrics over gRPC, every call bounded by the deadline. Views are grouped: those that arrive while
 * this turn of the event loop runs (under load, every read the HTTP server parsed in that turn) go
 * out together in one RecordViews call when it ends, and each caller gets its own view's answer or
 * error, as a RecordView of its own would have given it. A lone view waits no timer, only for the
 * end of the turn.
 */
export function createMetricsClient(o: MetricsClientOptions): MetricsClient {
  const { MetricsService } = loadMetricsProto().blog.metrics.v1;
  const client: MetricsServiceClient = createGrpcClient(MetricsService, o.address);
  const call = { deadlineMs: o.deadlineMs };
  const maxViewsPerCall = Math.max(1, Math.min(500, o.maxViewsPerCall ?? 200));
  let singleViewsUntil = maxViewsPerCall === 1 ? Infinity : 0;
  let queue: PendingView[] = [];
  let flushing: NodeJS.Immediate | undefined;

  const recordOne = async (request: RecordViewRequest): Promise<ViewAnswer> =>
    toAnswer(await callUnary<RecordViewRequest, GrpcPostCounts>(client, client.RecordView, request, call));

  const sendOneByOne = (views: PendingView[]): void => {
    for (const v of views) {
      const { traceparent: _p, tracestate: _s, ...request } = v.request;
      recordOne(request).then(v.resolve, v.reject);
    }
  };

  const send = async (views: PendingView[]): Promise<void> => {
    if (Date.now() < singleViewsUntil) {
      sendOneByOne(views);
      return;
    }
    let res: RecordViewsResponse;
    try {
      res = await callUnary<RecordViewsRequest, RecordViewsResponse>(
        client,
        client.RecordViews,
        { views: views.map((v) => v.request) },
        call,
      );
    } catch (err) {
      if (isUnimplemented(err)) {
        singleViewsUntil = Date.now() + SINGLE_VIEWS_FOR_MS;
        sendOneByOne(views);
        return;
      }
      for (const v of views) v.reject(err);
      return;
    }
    const results = res.results ?? [];
    views.forEach((v, i) => {
      const r = results[i];
      if (r?.counts) v.resolve(toAnswer(r.counts));
      else if (r && isErrorCode(r.error_code)) v.reject(new AppError(r.error_code, r.error_message ?? ''));
      else v.reject(new AppError('INTERNAL', 'metrics answered a view without its result'));
    });
  };

  const flush = (): void => {
    flushing = undefined;
    while (queue.length > 0) {
      const views = queue.slice(0, maxViewsPerCall);
      queue = queue.slice(views.length);
      void send(views);
    }
  };

  return {
    recordView(postId, viewerId, address) {
      const request: RecordViewRequest = {
        post_id: postId,
        viewer_id: viewerId,
        viewer_address: address ?? '',
      };
      if (Date.now() < singleViewsUntil) return recordOne(request);
      // The reader's trace, so its view's event continues it although the call carries many views.
      const { traceparent, tracestate } = currentTraceContext();
      if (traceparent) request.traceparent = traceparent;
      if (tracestate) request.tracestate = tracestate;
      return new Promise<ViewAnswer>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        flushing ??= setImmediate(flush);
      });
    },
    async getCounts(postIds, viewerId) {
      const res = await callUnary<GetCountsRequest, GetCountsResponse>(
        client,
        client.GetCounts,
        { post_ids: postIds, viewer_id: viewerId },
        call,
      );
      const wanted = new Set(postIds);
      const counts = new Map<number, PostCounts>();
      for (const c of res.counts ?? []) {
        const id = Number(c.post_id);
        if (wanted.has(id)) counts.set(id, toCounts(c));
      }
      return counts;
    },
    close() {
      if (flushing) {
        clearImmediate(flushing);
        flush();
      }
      (client as Client).close();
    },
  };
}
