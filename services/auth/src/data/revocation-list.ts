import type { Redis } from 'ioredis';
import { revokedSessionKey } from '@mpb/contracts';
import type { RevocationList } from '../domain/ports';

/** The Redis keys every verifier (gateway, services) checks for revoked sessions. */
export class RedisRevocationList implements RevocationList {
  constructor(private readonly redis: Redis) {}

  async add(sessionId: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(revokedSessionKey(sessionId), '1', 'EX', ttlSeconds);
  }

  async has(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(revokedSessionKey(sessionId))) === 1;
  }
}
