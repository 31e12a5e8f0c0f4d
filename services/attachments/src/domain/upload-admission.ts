import { rateLimited, unavailable } from '@mpb/errors';

export interface AdmissionLimits {
  /** Uploads one user may have in flight on this replica at once. */
  maxUploadsPerUser: number;
  /** Bytes the temporary files of all uploads in flight on this replica may take at once. */
  maxSpoolBytes: number;
  /** Sent as Retry-After with either refusal. */
  retryAfterSeconds: number;
}

export const admissionMessages = {
  perUser: (l: AdmissionLimits) =>
    `too many uploads in flight: at most ${l.maxUploadsPerUser} at once per user, retry when one has finished`,
  spool: 'the server has no room for more uploads right now, retry later',
};

/**
 * Admits an upload before its body is read, or refuses it: 429 when the user already has
 * `maxUploadsPerUser` uploads in flight, 503 when the spool space the upload may need does not fit
 * under `maxSpoolBytes`. An upload spools one file at a time (at most the smaller of its declared
 * length and the file size limit), so that is what it reserves; the reservation is held until the
 * request is done, after its temporary file is removed. Counts are per process (per replica).
 */
export class UploadAdmission {
  private readonly perUser = new Map<number, number>();
  private spoolBytes = 0;

  constructor(private readonly limits: AdmissionLimits) {}

  /** Reserves a slot and spool space; the returned function gives both back (calling it again does nothing). */
  admit(userId: number, spoolBytes: number): () => void {
    const inFlight = this.perUser.get(userId) ?? 0;
    if (inFlight >= this.limits.maxUploadsPerUser)
      throw rateLimited(admissionMessages.perUser(this.limits), this.limits.retryAfterSeconds);
    if (this.spoolBytes + spoolBytes > this.limits.maxSpoolBytes)
      throw unavailable(admissionMessages.spool, { retryAfter: this.limits.retryAfterSeconds });
    this.perUser.set(userId, inFlight + 1);
    this.spoolBytes += spoolBytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.spoolBytes -= spoolBytes;
      const left = (this.perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    };
  }

  /** What is in use now, for tests and metrics. */
  usage(): { uploads: number; spoolBytes: number } {
    let uploads = 0;
    for (const n of this.perUser.values()) uploads += n;
    return { uploads, spoolBytes: this.spoolBytes };
  }
}
