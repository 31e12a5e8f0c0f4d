import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type {
  MetricsServiceClient as _blog_metrics_v1_MetricsServiceClient,
  MetricsServiceDefinition as _blog_metrics_v1_MetricsServiceDefinition,
} from './blog/metrics/v1/MetricsService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new (...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blog: {
    metrics: {
      v1: {
        GetCountsRequest: MessageTypeDefinition;
        GetCountsResponse: MessageTypeDefinition;
        MetricsService: SubtypeConstructor<typeof grpc.Client, _blog_metrics_v1_MetricsServiceClient> & {
          service: _blog_metrics_v1_MetricsServiceDefinition;
        };
        PostCounts: MessageTypeDefinition;
        RecordViewRequest: MessageTypeDefinition;
        RecordViewResult: MessageTypeDefinition;
        RecordViewsRequest: MessageTypeDefinition;
        RecordViewsResponse: MessageTypeDefinition;
      };
    };
  };
}
