import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/index.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../secrets/index.js';
import type { Store } from '../store/index.js';

/** What route modules get besides the fastify instance. The engine adds its services here. */
export interface DaemonContext {
  store: Store;
  secrets: SecretBox;
  log: Logger;
  /** Scheduler, policy apply and backup runs; absent in an API-only app (buildApp without an engine). */
  engine?: Engine;
}

/**
 * One group of routes (a resource, health, OpenAPI, later runs and status). Registered in its own
 * fastify scope; auth, error JSON and body limits come from the app.
 */
export type RouteModule = (app: FastifyInstance, ctx: DaemonContext) => void | Promise<void>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without the bearer token (only /healthz in the contract). */
    public?: boolean;
  }
}
