import { dependencyChecks, type DependencyCheckDeps, type ReadinessCheck } from '@mpb/service-kit';

/** /readyz: every dependency reachable and the outbox draining, not stuck. */
export function readinessChecks(d: DependencyCheckDeps): Record<string, ReadinessCheck> {
  return dependencyChecks(d);
}
