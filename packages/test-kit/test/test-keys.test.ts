import { createTokenVerifier } from '@mpb/service-kit';
import { TestKeys } from '../src';

describe('TestKeys', () => {
  const keys = new TestKeys('test-issuer', 'test-audience');
  const verifier = createTokenVerifier({
    loadKeys: keys.loadKeys,
    issuer: 'test-issuer',
    audience: 'test-audience',
  });

  it('signs access tokens the service verifier accepts through loadKeys', async () => {
    await expect(verifier.verify(keys.sign(42, { sessionId: 's-1' }))).resolves.toEqual({
      id: 42,
      sessionId: 's-1',
    });
  });

  it('signs tokens the verifier refuses when their audience or type is wrong', async () => {
    await expect(verifier.verify(keys.sign(42, { audience: 'someone-else' }))).rejects.toThrow();
    await expect(verifier.verify(keys.sign(42, { typ: 'refresh' }))).rejects.toThrow();
  });
});
