import type { Client } from '@grpc/grpc-js';
import {
  loadMetricsProto,
  type GetCountsRequest,
  type GetCountsResponse,
  type MetricsServiceClient,
  type PostCounts as GrpcPostCounts,
  type RecordViewRequest,
} from '@mpb/contracts';
import { callUnary, createGrpcClient } from '@mpb/service-kit';
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
}

export interface MetricsClient extends MetricsPort {
  close(): void;
}

const toCounts = (c: GrpcPostCounts): PostCounts => ({
  likes: Math.max(0, Number(c.likes ?? 0)),
  views: Math.max(0, Number(c.views ?? 0)),
});

/** Metrics over gRPC, every call bounded by the deadline. */
export function createMetricsClient(o: MetricsClientOptions): MetricsClient {
  const { MetricsService } = loadMetricsProto().blog.metrics.v1;
  const client: MetricsServiceClient = createGrpcClient(MetricsService, o.address);
  const call = { deadlineMs: o.deadlineMs };
  return {
    async recordView(postId, viewerId, address) {
      const res = await callUnary<RecordViewRequest, GrpcPostCounts>(
        client,
        client.RecordView,
        { post_id: postId, viewer_id: viewerId, viewer_address: address ?? '' },
        call,
      );
      return { ...toCounts(res), alreadyCounted: res.already_counted === true };
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
      (client as Client).close();
    },
  };
}
