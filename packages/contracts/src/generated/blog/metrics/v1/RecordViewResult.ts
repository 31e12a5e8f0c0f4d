// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type {
  PostCounts as _blog_metrics_v1_PostCounts,
  PostCounts__Output as _blog_metrics_v1_PostCounts__Output,
} from '../../../blog/metrics/v1/PostCounts';

export interface RecordViewResult {
  counts?: _blog_metrics_v1_PostCounts | null;
  error_code?: string;
  error_message?: string;
}

export interface RecordViewResult__Output {
  counts: _blog_metrics_v1_PostCounts__Output | null;
  error_code: string;
  error_message: string;
}
