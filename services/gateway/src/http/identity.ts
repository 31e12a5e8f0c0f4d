import type { IncomingHttpHeaders } from 'node:http';
import { IDENTITY_HEADER_PATTERN } from '@mpb/contracts';
import { tokenFromHeader, type TokenVerifier } from '@mpb/service-kit';
import { currentCarrier } from '@mpb/telemetry';

/**
 * Connection-level headers of the client's hop; forwarding them would let a client close the
 * gateway's pooled upstream connection (`Connection: close`) or smuggle an `Upgrade`. `expect` is
 * answered by the gateway's own server (100 Continue) before the body is read.
 */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
];

/** Never dropped because a client listed them in `Connection`: the request depends on them. */
const END_TO_END = new Set(['authorization', 'host', 'content-length', 'content-type', 'transfer-encoding']);

/** What a client may claim about the path to us; kept only from proxies we trust. */
const FORWARDING = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
];

/**
 * Rewrites the client's headers into what the service receives: no identity a client could claim,
 * no hop-by-hop headers, the gateway's request id and trace context. Forwarding headers the client sent are dropped
 * unless a trusted proxy sits in front (then the proxy's values stay and `xfwd` appends ours).
 */
export function prepareUpstreamHeaders(
  headers: IncomingHttpHeaders,
  requestId: string,
  trustForwarded: boolean,
): void {
  const connection = headers.connection;
  if (typeof connection === 'string') {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && !END_TO_END.has(name)) delete headers[name];
    }
  }
  for (const name of HOP_BY_HOP) delete headers[name];
  if (!trustForwarded) for (const name of FORWARDING) delete headers[name];
  for (const name of Object.keys(headers)) {
    if (IDENTITY_HEADER_PATTERN.test(name)) delete headers[name];
  }
  headers['x-request-id'] = requestId;
  // The service continues the gateway's span of this request, not whatever the client sent.
  const { traceparent, tracestate } = currentCarrier();
  delete headers.traceparent;
  delete headers.tracestate;
  if (traceparent) headers.traceparent = traceparent;
  if (traceparent && tracestate) headers.tracestate = tracestate;
}

/**
 * Checks a present Authorization header before the request reaches a service: a bad token is a
 * 401 here (`invalid token format` / `invalid token`) and never silently ignored. A missing header
 * is the services' business: each decides which of its routes need a user.
 */
export async function verifyAuthorization(verifier: TokenVerifier, header: string): Promise<void> {
  await verifier.verify(tokenFromHeader(header));
}
