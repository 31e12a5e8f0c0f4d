// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type { Long } from '@grpc/proto-loader';

export interface RecordViewRequest {
  post_id?: number | string | Long;
  viewer_id?: number | string | Long;
  viewer_address?: string;
  traceparent?: string;
  tracestate?: string;
}

export interface RecordViewRequest__Output {
  post_id: number;
  viewer_id: number;
  viewer_address: string;
  traceparent: string;
  tracestate: string;
}
