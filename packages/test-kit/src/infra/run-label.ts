import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';

/**
 * Every container a run starts carries these labels: the run's id, and the process and machine that
 * own it. They are how the run removes its containers at its end, how its reaper removes them when
 * the run was killed, and how a later run recognises what a killed run left.
 */
export const LABEL_RUN = 'org.mpb.infra.run';
export const LABEL_PID = 'org.mpb.infra.pid';
export const LABEL_HOST = 'org.mpb.infra.host';

export const runLabels = (runId: string, pid = process.pid): Record<string, string> => ({
  [LABEL_RUN]: runId,
  [LABEL_PID]: String(pid),
  [LABEL_HOST]: os.hostname(),
});

/** The command line of a process, or '' when it is gone. */
const cmdlineOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

/** True while the process that started a run's containers is still this project's infra runner. */
export const ownerAlive = (pid: number, cmdline: (pid: number) => string = cmdlineOf): boolean =>
  Number.isInteger(pid) && pid > 0 && /test-kit\/dist\/infra\/cli\.js/.test(cmdline(pid));

async function removeWhere(
  filter: string,
  keep: (labels: Record<string, string>) => boolean = () => false,
): Promise<number> {
  const { dockerode } = (await getContainerRuntimeClient()).container;
  const found = await dockerode.listContainers({ all: true, filters: { label: [filter] } });
  let removed = 0;
  for (const c of found) {
    if (keep(c.Labels)) continue;
    await dockerode
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .then(() => (removed += 1))
      .catch((err: { statusCode?: number }) => {
        // Removed meanwhile (by the run itself or its reaper).
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
  }
  return removed;
}

/** Removes every container of one run, running or not, with its anonymous volumes. */
export const removeRunContainers = (runId: string): Promise<number> => removeWhere(`${LABEL_RUN}=${runId}`);

/**
 * Removes the containers of earlier runs on this machine whose owner is gone (a run killed so hard
 * that neither it nor its reaper could clean up, or a Docker engine restarted under it).
 */
export const removeLeftovers = (alive: (pid: number) => boolean = ownerAlive): Promise<number> =>
  removeWhere(
    LABEL_RUN,
    (labels) => labels[LABEL_HOST] !== os.hostname() || alive(Number(labels[LABEL_PID])),
  );

/**
 * Starts the run's reaper: a detached process (its own session, so Ctrl-C and a killed process group
 * spare it) that waits for this process to go and then removes the run's containers. Its stdin is a
 * pipe from here; the kernel closes it however this process ends, even on SIGKILL. `release()` after
 * the run removed its containers itself: the reaper then finds none and exits.
 */
export function startReaper(runId: string): { release: () => void } {
  const child = spawn(process.execPath, [path.join(__dirname, 'reaper.js'), runId], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.unref();
  child.stdin.on('error', () => undefined);
  // The open pipe must not keep this process alive on its own.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return { release: () => child.stdin.end() };
}
