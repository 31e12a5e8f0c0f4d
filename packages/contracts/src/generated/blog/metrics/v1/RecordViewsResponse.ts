// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type {
  RecordViewResult as _blog_metrics_v1_RecordViewResult,
  RecordViewResult__Output as _blog_metrics_v1_RecordViewResult__Output,
} from '../../../blog/metrics/v1/RecordViewResult';

export interface RecordViewsResponse {
  results?: _blog_metrics_v1_RecordViewResult[];
}

export interface RecordViewsResponse__Output {
  results: _blog_metrics_v1_RecordViewResult__Output[];
}
