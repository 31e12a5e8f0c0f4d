import proxyAddr from 'proxy-addr';

/** Express `trust proxy` as a function: is the hop at `index` (0 = the socket's peer) a trusted proxy? */
export type TrustHop = (address: string, index: number) => boolean;

/**
 * The client address of a request that came through the gateway, under the gateway's own trust rule.
 *
 * The gateway drops every forwarding header a client sends (unless its TRUST_PROXY trusts the proxy
 * in front of it, whose values it keeps) and appends the address of its own peer to
 * `X-Forwarded-For`. So, read from the right, the list posts receives is: the gateway's peer, then
 * what the proxies the gateway trusts wrote. Posts trusts its own peer (the gateway: posts is not
 * published, only the gateway is) and, behind it, exactly the hops the gateway trusts, so `req.ip`
 * is the address the gateway's rate limits use, and a client cannot choose it by sending the header.
 *
 * `gatewayTrustProxy` is the gateway's TRUST_PROXY: `false`, a hop count, or a comma list of
 * addresses/CIDRs/`loopback`/`linklocal`/`uniquelocal`.
 */
export function trustThroughGateway(gatewayTrustProxy: string): TrustHop {
  const value = gatewayTrustProxy.trim();
  let behindGateway: TrustHop;
  if (value === '' || /^false$/i.test(value)) behindGateway = () => false;
  else if (/^\d+$/.test(value)) {
    const hops = Number(value);
    behindGateway = (_address, index) => index < hops;
  } else {
    const trusted = proxyAddr.compile(
      value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
    behindGateway = (address, index) => trusted(address, index);
  }
  return (address, index) => index === 0 || behindGateway(address, index - 1);
}
