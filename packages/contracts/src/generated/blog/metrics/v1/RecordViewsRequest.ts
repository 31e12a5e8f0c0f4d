// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type {
  RecordViewRequest as _blog_metrics_v1_RecordViewRequest,
  RecordViewRequest__Output as _blog_metrics_v1_RecordViewRequest__Output,
} from '../../../blog/metrics/v1/RecordViewRequest';

export interface RecordViewsRequest {
  views?: _blog_metrics_v1_RecordViewRequest[];
}

export interface RecordViewsRequest__Output {
  views: _blog_metrics_v1_RecordViewRequest__Output[];
}
