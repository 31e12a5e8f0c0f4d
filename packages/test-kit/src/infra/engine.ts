/** The Docker engine is this machine's (a local socket) and no other host was named for its ports. */
export const loopbackEngine = (env: NodeJS.ProcessEnv): boolean =>
  !env.TESTCONTAINERS_HOST_OVERRIDE && (!env.DOCKER_HOST || env.DOCKER_HOST.startsWith('unix://'));

/**
 * Prepares testcontainers for this project: no Ryuk (its image comes from a registry, which these
 * machines may not reach; the run's own reaper removes the containers instead, see reaper.ts) and,
 * with a local engine, ports on 127.0.0.1.
 */
export function configureTestcontainers(env: NodeJS.ProcessEnv = process.env): { loopback: boolean } {
  // Decided once per run and passed on, so the override set here is not taken for a user's choice.
  env.MPB_INFRA_LOOPBACK ??= loopbackEngine(env) ? '1' : '0';
  const loopback = env.MPB_INFRA_LOOPBACK === '1';
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  if (loopback) env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  return { loopback };
}
