import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@mpb/errors';
import { currentCarrier } from '@mpb/telemetry';

type ClientConstructor<C> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: object,
) => C;

/**
 * The one set of gRPC client options; every client of the platform is built by createGrpcClient.
 * - keepalive pings every 30 s (5 s to answer), so a dead peer behind a quiet channel is noticed;
 * - messages up to 4 MiB received, the servers' limit too (GrpcServer);
 * - reconnects after 250 ms, backing off to at most 1 s (grpc-js waits up to two minutes by
 *   default): while a channel waits to reconnect every call fails fast with a 503, so a peer that
 *   restarts must be used again within about a second, as the fault suite's service kills require;
 * - round-robin over every address a DNS name resolves to, so replicas share the load;
 * - no channelz statistics (no channelz server is exposed) and no retry machinery (no retry policy
 *   is configured; callers fall back or answer 503 themselves): off, a unary call costs the client
 *   and the server noticeably less CPU.
 */
export const GRPC_CLIENT_OPTIONS = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 1_000,
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  'grpc.enable_channelz': 0,
  'grpc.enable_retries': 0,
} as const;

export function createGrpcClient<C extends Client>(Ctor: ClientConstructor<C>, address: string): C {
  return new Ctor(address, credentials.createInsecure(), { ...GRPC_CLIENT_OPTIONS });
}

export interface CallOptions {
  deadlineMs?: number;
  requestId?: string;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (err: ServiceError | null, response?: Res) => void,
) => unknown;

/** Calls a unary method with a deadline; failures come back as our error family. */
export function callUnary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  o: CallOptions = {},
): Promise<Res> {
  const metadata = new Metadata();
  if (o.requestId) metadata.set('x-request-id', o.requestId);
  // The callee's span joins the caller's trace.
  const { traceparent, tracestate } = currentCarrier();
  if (traceparent) metadata.set('traceparent', traceparent);
  if (tracestate) metadata.set('tracestate', tracestate);
  return new Promise<Res>((resolve, reject) => {
    method.call(
      client,
      request,
      metadata,
      { deadline: new Date(Date.now() + (o.deadlineMs ?? 2000)) },
      (err, response) => {
        if (err) reject(fromGrpcError(err));
        else resolve(response as Res);
      },
    );
  });
}
