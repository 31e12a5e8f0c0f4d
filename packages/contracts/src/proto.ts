import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType as AuthProto } from './generated/auth';
import type { ProtoGrpcType as HealthProto } from './generated/health';

export type * as authV1 from './generated/blog/auth/v1/User';
export type { User, User__Output } from './generated/blog/auth/v1/User';
export type { GetUserRequest } from './generated/blog/auth/v1/GetUserRequest';
export type { GetUsersRequest } from './generated/blog/auth/v1/GetUsersRequest';
export type { GetUsersResponse } from './generated/blog/auth/v1/GetUsersResponse';
export type { UserServiceHandlers, UserServiceClient } from './generated/blog/auth/v1/UserService';
export type { HealthHandlers, HealthClient } from './generated/grpc/health/v1/Health';
export type { HealthCheckResponse } from './generated/grpc/health/v1/HealthCheckResponse';

/**
 * The one source of protos is `proto/` at the repository root. A deployed package (pnpm deploy,
 * container images) carries a copy made at build time beside its dist/, found first.
 */
export const PROTO_ROOT = [path.resolve(__dirname, '../proto'), path.resolve(__dirname, '../../../proto')].find((p) =>
  existsSync(path.join(p, 'grpc/health/v1/health.proto')),
) as string;

export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

const cache = new Map<string, GrpcObject>();

function load(file: string): GrpcObject {
  let pkg = cache.get(file);
  if (!pkg) {
    pkg = loadPackageDefinition(loadSync(file, PROTO_LOADER_OPTIONS));
    cache.set(file, pkg);
  }
  return pkg;
}

export const loadAuthProto = (): AuthProto => load('blog/auth/v1/auth.proto') as unknown as AuthProto;
export const loadHealthProto = (): HealthProto => load('grpc/health/v1/health.proto') as unknown as HealthProto;
