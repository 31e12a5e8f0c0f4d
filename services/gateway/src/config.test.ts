import { ConfigError } from '@mpb/service-kit';
import { gatewaySettings, loadGatewayConfig, trustProxySetting } from './config';

describe('gateway config', () => {
  it('runs with zero configuration on local defaults', () => {
    const c = loadGatewayConfig({});
    expect(c).toMatchObject({
      HTTP_PORT: 8080,
      AUTH_URL: 'http://127.0.0.1:3001',
      POSTS_URL: 'http://127.0.0.1:3002',
      METRICS_URL: 'http://127.0.0.1:3005',
      UPSTREAM_TIMEOUT_MS: 10000,
      BODY_LIMIT_BYTES: 256 * 1024,
      SMALL_BODY_LIMIT_BYTES: 64 * 1024,
      RATE_LIMIT_AUTH_MAX: 20,
      RATE_LIMIT_AUTH_WINDOW_SECONDS: 60,
      TRUST_PROXY: 'false',
      CORS_ORIGINS: '',
      CORS_ALLOW_CREDENTIALS: false,
    });
    const s = gatewaySettings(c);
    expect(s.trustProxy).toBe(false);
    expect(s.cors.origins).toEqual([]);
    expect(s.rateLimits.auth).toEqual({ max: 20, windowSeconds: 60 });
  });

  it('reads TRUST_PROXY as off, a hop count or an address list, and refuses true', () => {
    expect(trustProxySetting('false')).toBe(false);
    expect(trustProxySetting('2')).toBe(2);
    expect(trustProxySetting('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8');
    expect(() => loadGatewayConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
  });

  it('splits CORS origins and refuses * with credentials or malformed origins', () => {
    expect(
      gatewaySettings(loadGatewayConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' })).cors
        .origins,
    ).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(() => loadGatewayConfig({ CORS_ORIGINS: '*', CORS_ALLOW_CREDENTIALS: 'true' })).toThrow(
      /CORS_ALLOW_CREDENTIALS/,
    );
    expect(() => loadGatewayConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadGatewayConfig({ CORS_ORIGINS: '*, https://a.example' })).toThrow(/CORS_ORIGINS/);
  });

  it('names every bad key at once', () => {
    try {
      loadGatewayConfig({ AUTH_URL: 'not a url', UPSTREAM_TIMEOUT_MS: 'soon', RATE_LIMIT_AUTH_MAX: '0' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/AUTH_URL/);
      expect(problems).toMatch(/UPSTREAM_TIMEOUT_MS/);
      expect(problems).toMatch(/RATE_LIMIT_AUTH_MAX/);
    }
  });
});
