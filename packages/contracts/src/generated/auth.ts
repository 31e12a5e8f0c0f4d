import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type {
  SessionRevocationServiceClient as _blog_auth_v1_SessionRevocationServiceClient,
  SessionRevocationServiceDefinition as _blog_auth_v1_SessionRevocationServiceDefinition,
} from './blog/auth/v1/SessionRevocationService';
import type {
  UserServiceClient as _blog_auth_v1_UserServiceClient,
  UserServiceDefinition as _blog_auth_v1_UserServiceDefinition,
} from './blog/auth/v1/UserService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new (...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  blog: {
    auth: {
      v1: {
        GetUserRequest: MessageTypeDefinition;
        GetUsersRequest: MessageTypeDefinition;
        GetUsersResponse: MessageTypeDefinition;
        ListRevokedSessionsRequest: MessageTypeDefinition;
        ListRevokedSessionsResponse: MessageTypeDefinition;
        RevokedSession: MessageTypeDefinition;
        SessionRevocationService: SubtypeConstructor<
          typeof grpc.Client,
          _blog_auth_v1_SessionRevocationServiceClient
        > & { service: _blog_auth_v1_SessionRevocationServiceDefinition };
        User: MessageTypeDefinition;
        UserService: SubtypeConstructor<typeof grpc.Client, _blog_auth_v1_UserServiceClient> & {
          service: _blog_auth_v1_UserServiceDefinition;
        };
      };
    };
  };
}
