// What /proc says about a process (Linux): the CPU it has used and the memory it holds.
import { readFileSync } from 'node:fs';

/** CPU time (user + system) of a process so far, in microseconds, from /proc/PID/stat. */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** Resident memory of a process now, in MiB, from /proc/PID/status. */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}
