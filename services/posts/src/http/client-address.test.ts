import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import { trustThroughGateway } from './client-address';

/** A request as posts receives it from the gateway (the socket's peer) with this X-Forwarded-For. */
const fromGateway = (xff?: string): IncomingMessage =>
  ({
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    socket: { remoteAddress: '10.1.0.9' },
    connection: { remoteAddress: '10.1.0.9' },
  }) as unknown as IncomingMessage;

/** What express's req.ip is under the trust function. */
const clientOf = (gatewayTrustProxy: string, xff?: string): string =>
  proxyAddr(fromGateway(xff), trustThroughGateway(gatewayTrustProxy));

describe('trustThroughGateway', () => {
  it('takes the address the gateway appended when the gateway trusts no proxy', () => {
    // The gateway dropped the client's header and wrote its peer: one entry.
    expect(clientOf('false', '198.51.100.7')).toBe('198.51.100.7');
    // Whatever stands left of it was not written by the gateway and is never believed.
    expect(clientOf('false', '203.0.113.66, 198.51.100.7')).toBe('198.51.100.7');
    expect(clientOf('', '203.0.113.66, 198.51.100.7')).toBe('198.51.100.7');
  });

  it('trusts as many hops behind the gateway as the gateway does', () => {
    // client → load balancer (10.0.0.5) → gateway: the balancer wrote the client, the gateway the balancer.
    expect(clientOf('1', '198.51.100.7, 10.0.0.5')).toBe('198.51.100.7');
    expect(clientOf('1', '203.0.113.66, 198.51.100.7, 10.0.0.5')).toBe('198.51.100.7');
    expect(clientOf('2', '203.0.113.66, 198.51.100.7, 10.0.0.5')).toBe('203.0.113.66');
  });

  it('trusts the addresses the gateway trusts, and no others', () => {
    expect(clientOf('10.0.0.0/8', '203.0.113.66, 198.51.100.7, 10.0.0.5')).toBe('198.51.100.7');
    expect(clientOf('10.0.0.0/8, 172.16.0.0/12', '198.51.100.7, 172.16.3.3, 10.0.0.5')).toBe('198.51.100.7');
    // A peer of the gateway outside the list is the client, whatever it claims.
    expect(clientOf('10.0.0.0/8', '203.0.113.66, 192.0.2.1')).toBe('192.0.2.1');
  });

  it('falls back to the gateway itself when nothing was forwarded (a call that skipped the gateway)', () => {
    expect(clientOf('false')).toBe('10.1.0.9');
  });
});
