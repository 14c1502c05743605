import { clusterRoutes } from './clusters.js';
import type { RouteModule } from './context.js';
import { healthRoutes } from './health.js';
import { policyRoutes } from './policies.js';
import { storageRoutes } from './storages.js';

export type { DaemonContext, RouteModule } from './context.js';
export { ApiError } from './errors.js';

/**
 * The route modules the daemon serves, in order. The engine appends its modules (runs, status,
 * backups, alarms, metrics) here or passes them to buildApp({ routes }); /openapi.json is always added.
 */
export const coreRoutes: RouteModule[] = [healthRoutes, clusterRoutes, storageRoutes, policyRoutes];
