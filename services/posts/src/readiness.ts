import { dependencyChecks, type DependencyCheckDeps, type ReadinessCheck } from '@mpb/service-kit';

/**
 * /readyz: every dependency reachable and the outbox draining, not stuck. Metrics is deliberately
 * not checked: posts are served without it (with their last known counts).
 */
export function readinessChecks(d: DependencyCheckDeps): Record<string, ReadinessCheck> {
  return dependencyChecks(d);
}
