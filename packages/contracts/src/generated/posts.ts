import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type {
  PostServiceClient as _blog_posts_v1_PostServiceClient,
  PostServiceDefinition as _blog_posts_v1_PostServiceDefinition,
} from './blog/posts/v1/PostService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new (...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blog: {
    posts: {
      v1: {
        GetPostRequest: MessageTypeDefinition;
        GetPostsRequest: MessageTypeDefinition;
        GetPostsResponse: MessageTypeDefinition;
        Post: MessageTypeDefinition;
        PostService: SubtypeConstructor<typeof grpc.Client, _blog_posts_v1_PostServiceClient> & {
          service: _blog_posts_v1_PostServiceDefinition;
        };
      };
    };
  };
}
