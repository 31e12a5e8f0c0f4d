export interface UploadLimits {
  maxFileBytes: number;
  maxFiles: number;
  maxRequestBytes: number;
}

/** `10 MiB` when it is a whole number of MiB or KiB, else bytes. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export const limitMessages = {
  file: (name: string, l: UploadLimits) =>
    `file "${name}" is larger than the limit of ${formatBytes(l.maxFileBytes)}`,
  request: (l: UploadLimits) =>
    `the files of one request may total at most ${formatBytes(l.maxRequestBytes)}`,
  files: (l: UploadLimits) => `too many files: at most ${l.maxFiles} per request`,
};
