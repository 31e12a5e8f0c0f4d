// Original file: ../../proto/blog/auth/v1/auth.proto

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  GetUserRequest as _blog_auth_v1_GetUserRequest,
  GetUserRequest__Output as _blog_auth_v1_GetUserRequest__Output,
} from '../../../blog/auth/v1/GetUserRequest';
import type {
  GetUsersRequest as _blog_auth_v1_GetUsersRequest,
  GetUsersRequest__Output as _blog_auth_v1_GetUsersRequest__Output,
} from '../../../blog/auth/v1/GetUsersRequest';
import type {
  GetUsersResponse as _blog_auth_v1_GetUsersResponse,
  GetUsersResponse__Output as _blog_auth_v1_GetUsersResponse__Output,
} from '../../../blog/auth/v1/GetUsersResponse';
import type {
  User as _blog_auth_v1_User,
  User__Output as _blog_auth_v1_User__Output,
} from '../../../blog/auth/v1/User';

export interface UserServiceClient extends grpc.Client {
  GetUser(
    argument: _blog_auth_v1_GetUserRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;
  GetUser(
    argument: _blog_auth_v1_GetUserRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;
  GetUser(
    argument: _blog_auth_v1_GetUserRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;
  GetUser(
    argument: _blog_auth_v1_GetUserRequest,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;
  getUser(
    argument: _blog_auth_v1_GetUserRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;
  getUser(
    argument: _blog_auth_v1_GetUserRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;
  getUser(
    argument: _blog_auth_v1_GetUserRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;
  getUser(
    argument: _blog_auth_v1_GetUserRequest,
    callback: grpc.requestCallback<_blog_auth_v1_User__Output>,
  ): grpc.ClientUnaryCall;

  GetUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
  GetUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
  getUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
  getUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
  getUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
  getUsers(
    argument: _blog_auth_v1_GetUsersRequest,
    callback: grpc.requestCallback<_blog_auth_v1_GetUsersResponse__Output>,
  ): grpc.ClientUnaryCall;
}

export interface UserServiceHandlers extends grpc.UntypedServiceImplementation {
  GetUser: grpc.handleUnaryCall<_blog_auth_v1_GetUserRequest__Output, _blog_auth_v1_User>;

  GetUsers: grpc.handleUnaryCall<_blog_auth_v1_GetUsersRequest__Output, _blog_auth_v1_GetUsersResponse>;
}

export interface UserServiceDefinition extends grpc.ServiceDefinition {
  GetUser: MethodDefinition<
    _blog_auth_v1_GetUserRequest,
    _blog_auth_v1_User,
    _blog_auth_v1_GetUserRequest__Output,
    _blog_auth_v1_User__Output
  >;
  GetUsers: MethodDefinition<
    _blog_auth_v1_GetUsersRequest,
    _blog_auth_v1_GetUsersResponse,
    _blog_auth_v1_GetUsersRequest__Output,
    _blog_auth_v1_GetUsersResponse__Output
  >;
}
