import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

/** bcrypt only reads the first 72 bytes: a longer password would match any password sharing them. */
export const PASSWORD_MAX_BYTES = 72;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the same time as a real check, for unknown users, so timing does not reveal who exists. */
  verifyAgainstDummy(password: string): Promise<false>;
}

export async function createPasswordHasher(cost: number): Promise<PasswordHasher> {
  const dummyHash = await bcrypt.hash(randomBytes(16).toString('hex'), cost);
  return {
    hash: (password) => bcrypt.hash(password, cost),
    verify: (password, hash) => bcrypt.compare(password, hash),
    verifyAgainstDummy: async (password) => {
      await bcrypt.compare(password, dummyHash);
      return false;
    },
  };
}
