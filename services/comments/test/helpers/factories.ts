import { randomBytes, randomInt } from 'node:crypto';

export const suffix = (): string => randomBytes(5).toString('hex');

/**
 * A post id no other test or run uses: large and random, so post events left on the shared topic by
 * earlier runs (or parallel files) never touch this test's comments.
 */
export const uniquePostId = (): number => randomInt(2 ** 40, 2 ** 48);

/** A user id for a test actor; comments only ever stores it. */
export const uniqueUserId = (): number => randomInt(1, 2 ** 47);
