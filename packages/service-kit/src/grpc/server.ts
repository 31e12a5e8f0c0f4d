import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerMethodDefinition,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { renderGrpcError } from '@mpb/errors';
import { errorFields, type Logger } from '@mpb/logger';
import { contextFrom, failSpan, SpanKind, startSpan, withContext, withRequestId } from '@mpb/telemetry';
import type { ServiceMetrics } from '../metrics';
import { incomingCallTrace } from '../trace-context';

export type UnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/** The RPC names a generated service definition declares (without ServiceDefinition's index signature). */
type RpcNames<D> = keyof { [K in keyof D as string extends K ? never : K]: D[K] };

/**
 * One handler per RPC of a generated service definition, each typed by its method: it gets the
 * decoded request and must answer the response message. A misspelt or missing RPC, or a response of
 * the wrong shape, does not compile.
 */
export type UnaryHandlers<D extends ServiceDefinition> = {
  [K in RpcNames<D>]: D[K] extends ServerMethodDefinition<infer Req, infer Res> ? UnaryHandler<Req, Res> : never;
};

export interface GrpcServerOptions {
  logger: Logger;
  metrics: ServiceMetrics;
}

/**
 * A gRPC server with the standard health service (grpc.health.v1 from `grpc-health-check`: the
 * server as a whole, named '', and every registered service share one status), error mapping and
 * per-method metrics.
 */
export class GrpcServer {
  private readonly server = new Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    // Channelz statistics per call: no channelz server reads them.
    'grpc.enable_channelz': 0,
  });
  private servingStatus: ServingStatus = 'NOT_SERVING';
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  /** Open health Watch streams: close() ends them, or they would hold the shutdown until it is forced. */
  private readonly watches = new Set<ServerWritableStream<unknown, unknown>>();
  private readonly serviceNames = new Set<string>(['']);

  constructor(private readonly o: GrpcServerOptions) {
    this.health.addToServer({
      addService: (definition, implementation) => {
        const watch = implementation.watch as (call: ServerWritableStream<unknown, unknown>) => void;
        this.server.addService(definition as ServiceDefinition, {
          ...implementation,
          watch: (call: ServerWritableStream<unknown, unknown>) => {
            this.watches.add(call);
            call.on('cancelled', () => this.watches.delete(call));
            watch(call);
          },
        } as UntypedServiceImplementation);
      },
    });
  }

  /** Registers a service; each handler returns a promise, and errors become real gRPC statuses. */
  add<D extends ServiceDefinition>(name: string, definition: D, handlers: UnaryHandlers<D>): this {
    const impl: UntypedServiceImplementation = {};
    const entries: Array<[string, UnaryHandler<unknown, unknown>]> = Object.entries(handlers);
    for (const [method, handler] of entries) {
      impl[method] = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
        const started = process.hrtime.bigint();
        const { span, ctx } = startSpan(`${name}/${method}`, {
          kind: SpanKind.SERVER,
          parent: contextFrom(incomingCallTrace(call)),
          attributes: { 'rpc.system': 'grpc', 'rpc.service': name, 'rpc.method': method },
        });
        const requestId = metadataText(call, 'x-request-id');
        const observe = (code: string) => {
          span.setAttribute('rpc.grpc.status_code', code);
          span.end();
          this.o.metrics.grpcDuration.observe(
            { method: `${name}/${method}`, code },
            Number(process.hrtime.bigint() - started) / 1e9,
          );
        };
        withContext(requestId ? withRequestId(ctx, requestId) : ctx, () => handler(call.request, call)).then(
          (response) => {
            observe('OK');
            cb(null, response);
          },
          (err: unknown) => {
            const rendered = renderGrpcError(err);
            if (rendered.code === status.INTERNAL || rendered.code === status.UNAVAILABLE)
              failSpan(span, err);
            observe(status[rendered.code]);
            if (rendered.code === status.INTERNAL) {
              this.o.metrics.errors.inc({ kind: 'grpc' });
              this.o.logger.error(
                { method: `${name}/${method}`, ...errorFields(err, true) },
                'grpc call failed',
              );
            }
            cb({ code: rendered.code, details: rendered.details, metadata: rendered.metadata });
          },
        );
      };
    }
    this.server.addService(definition, impl);
    this.serviceNames.add(name);
    this.health.setStatus(name, this.servingStatus);
    return this;
  }

  setServing(serving: boolean): void {
    this.servingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    for (const name of this.serviceNames) this.health.setStatus(name, this.servingStatus);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const bound = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.setServing(true);
    return bound;
  }

  /** Finishes in-flight calls, forcing after the timeout. */
  async close(timeoutMs = 5000): Promise<void> {
    this.setServing(false);
    for (const call of this.watches) call.end();
    this.watches.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, timeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** One text value of the call's metadata, within a sane length; anything else is ignored. */
function metadataText(call: ServerUnaryCall<unknown, unknown>, key: string): string | undefined {
  const value = call.metadata.get(key)[0];
  return typeof value === 'string' && value.length <= 256 ? value : undefined;
}
