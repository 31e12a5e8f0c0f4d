import { isAppError } from '@mpb/errors';
import { UploadAdmission } from './upload-admission';

const limits = { maxUploadsPerUser: 2, maxSpoolBytes: 100, retryAfterSeconds: 3 };

const refusal = (admit: () => unknown) => {
  try {
    admit();
  } catch (err) {
    if (isAppError(err)) return { code: err.code, retryAfter: err.retryAfter };
    throw err;
  }
  return undefined;
};

describe('UploadAdmission', () => {
  it('admits up to the per-user limit, then refuses that user alone with RATE_LIMITED', () => {
    const admission = new UploadAdmission(limits);
    admission.admit(1, 10);
    admission.admit(1, 10);
    expect(refusal(() => admission.admit(1, 10))).toEqual({ code: 'RATE_LIMITED', retryAfter: 3 });
    expect(refusal(() => admission.admit(2, 10))).toBeUndefined();
  });

  it('refuses with UNAVAILABLE when the reservation would pass the spool limit, and counts nothing for it', () => {
    const admission = new UploadAdmission(limits);
    admission.admit(1, 60);
    expect(refusal(() => admission.admit(2, 41))).toEqual({ code: 'UNAVAILABLE', retryAfter: 3 });
    expect(admission.usage()).toEqual({ uploads: 1, spoolBytes: 60 });
    expect(refusal(() => admission.admit(2, 40))).toBeUndefined();
  });

  it('gives back the slot and the room once, however often release is called', () => {
    const admission = new UploadAdmission(limits);
    const release = admission.admit(1, 50);
    admission.admit(1, 20);
    release();
    release();
    expect(admission.usage()).toEqual({ uploads: 1, spoolBytes: 20 });
    admission.admit(1, 80);
    expect(refusal(() => admission.admit(1, 0))).toMatchObject({ code: 'RATE_LIMITED' });
  });
});
