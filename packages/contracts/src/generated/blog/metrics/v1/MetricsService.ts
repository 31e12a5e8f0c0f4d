// Original file: ../../proto/blog/metrics/v1/metrics.proto

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  GetCountsRequest as _blog_metrics_v1_GetCountsRequest,
  GetCountsRequest__Output as _blog_metrics_v1_GetCountsRequest__Output,
} from '../../../blog/metrics/v1/GetCountsRequest';
import type {
  GetCountsResponse as _blog_metrics_v1_GetCountsResponse,
  GetCountsResponse__Output as _blog_metrics_v1_GetCountsResponse__Output,
} from '../../../blog/metrics/v1/GetCountsResponse';
import type {
  PostCounts as _blog_metrics_v1_PostCounts,
  PostCounts__Output as _blog_metrics_v1_PostCounts__Output,
} from '../../../blog/metrics/v1/PostCounts';
import type {
  RecordViewRequest as _blog_metrics_v1_RecordViewRequest,
  RecordViewRequest__Output as _blog_metrics_v1_RecordViewRequest__Output,
} from '../../../blog/metrics/v1/RecordViewRequest';
import type {
  RecordViewsRequest as _blog_metrics_v1_RecordViewsRequest,
  RecordViewsRequest__Output as _blog_metrics_v1_RecordViewsRequest__Output,
} from '../../../blog/metrics/v1/RecordViewsRequest';
import type {
  RecordViewsResponse as _blog_metrics_v1_RecordViewsResponse,
  RecordViewsResponse__Output as _blog_metrics_v1_RecordViewsResponse__Output,
} from '../../../blog/metrics/v1/RecordViewsResponse';

export interface MetricsServiceClient extends grpc.Client {
  GetCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;
  getCounts(
    argument: _blog_metrics_v1_GetCountsRequest,
    callback: grpc.requestCallback<_blog_metrics_v1_GetCountsResponse__Output>,
  ): grpc.ClientUnaryCall;

  RecordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;
  RecordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;
  RecordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;
  RecordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;
  recordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;
  recordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;
  recordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;
  recordView(
    argument: _blog_metrics_v1_RecordViewRequest,
    callback: grpc.requestCallback<_blog_metrics_v1_PostCounts__Output>,
  ): grpc.ClientUnaryCall;

  RecordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
  RecordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
  RecordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
  RecordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
  recordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
  recordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
  recordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
  recordViews(
    argument: _blog_metrics_v1_RecordViewsRequest,
    callback: grpc.requestCallback<_blog_metrics_v1_RecordViewsResponse__Output>,
  ): grpc.ClientUnaryCall;
}

export interface MetricsServiceHandlers extends grpc.UntypedServiceImplementation {
  GetCounts: grpc.handleUnaryCall<
    _blog_metrics_v1_GetCountsRequest__Output,
    _blog_metrics_v1_GetCountsResponse
  >;

  RecordView: grpc.handleUnaryCall<_blog_metrics_v1_RecordViewRequest__Output, _blog_metrics_v1_PostCounts>;

  RecordViews: grpc.handleUnaryCall<
    _blog_metrics_v1_RecordViewsRequest__Output,
    _blog_metrics_v1_RecordViewsResponse
  >;
}

export interface MetricsServiceDefinition extends grpc.ServiceDefinition {
  GetCounts: MethodDefinition<
    _blog_metrics_v1_GetCountsRequest,
    _blog_metrics_v1_GetCountsResponse,
    _blog_metrics_v1_GetCountsRequest__Output,
    _blog_metrics_v1_GetCountsResponse__Output
  >;
  RecordView: MethodDefinition<
    _blog_metrics_v1_RecordViewRequest,
    _blog_metrics_v1_PostCounts,
    _blog_metrics_v1_RecordViewRequest__Output,
    _blog_metrics_v1_PostCounts__Output
  >;
  RecordViews: MethodDefinition<
    _blog_metrics_v1_RecordViewsRequest,
    _blog_metrics_v1_RecordViewsResponse,
    _blog_metrics_v1_RecordViewsRequest__Output,
    _blog_metrics_v1_RecordViewsResponse__Output
  >;
}
