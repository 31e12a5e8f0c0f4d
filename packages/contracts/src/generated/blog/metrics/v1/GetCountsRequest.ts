// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type { Long } from '@grpc/proto-loader';

export interface GetCountsRequest {
  post_ids?: (number | string | Long)[];
  viewer_id?: number | string | Long;
}

export interface GetCountsRequest__Output {
  post_ids: number[];
  viewer_id: number;
}
