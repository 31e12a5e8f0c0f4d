// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type {
  PostCounts as _blog_metrics_v1_PostCounts,
  PostCounts__Output as _blog_metrics_v1_PostCounts__Output,
} from '../../../blog/metrics/v1/PostCounts';

export interface GetCountsResponse {
  counts?: _blog_metrics_v1_PostCounts[];
}

export interface GetCountsResponse__Output {
  counts: _blog_metrics_v1_PostCounts__Output[];
}
