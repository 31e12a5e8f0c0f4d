import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type {
  CommentServiceClient as _blog_comments_v1_CommentServiceClient,
  CommentServiceDefinition as _blog_comments_v1_CommentServiceDefinition,
} from './blog/comments/v1/CommentService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new (...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blog: {
    comments: {
      v1: {
        Comment: MessageTypeDefinition;
        CommentService: SubtypeConstructor<typeof grpc.Client, _blog_comments_v1_CommentServiceClient> & {
          service: _blog_comments_v1_CommentServiceDefinition;
        };
        GetCommentRequest: MessageTypeDefinition;
      };
    };
  };
}
