/**
 * obbackupd as a library: buildApp() assembles the HTTP API around a store (tests and benchmarks use it
 * in-process); startDaemon() adds the data dir, token, secret key, store and listener.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerBearerAuth } from './api/auth.js';
import type { DaemonContext, RouteModule } from './api/context.js';
import { frameworkErrorHandler, registerErrorHandling } from './api/errors.js';
import { registerJsonBodyParser } from './api/json-body.js';
import { coreRoutes } from './api/index.js';
import { opsRoutes } from './api/ops.js';
import { runRoutes } from './api/runs.js';
import { Engine, type EngineOptions } from './engine/index.js';
import { checkWebhookUrl, redactWebhookUrl, WEBHOOK_ENV, WebhookNotifier } from './engine/webhook.js';
import { OpenApiRegistry, openApiRoutes } from './api/openapi.js';
import { ConfigError, DEFAULT_LISTEN, defaultDataDir, ensureDataDir, loadToken, parseListen, TOKEN_ENV } from './config.js';
import { createLogger, type Logger } from './log.js';
import { loadSecretKey, SecretBox, SecretKeyError, verifyKeyAgainstStore } from './secrets/index.js';
import { fillNewDefaults } from './api/spec-upgrade.js';
import { openStore, StoreOpenError, StoreUrlError, type Store } from './store/index.js';

/** Large enough for a cluster scoped to hundreds of tenants; anything bigger is a mistake or an attack. */
export const DEFAULT_BODY_LIMIT = 256 * 1024;

export interface AppOptions {
  store: Store;
  secrets: SecretBox;
  /** The bearer token every route but /healthz requires. */
  token: string;
  logger: Logger;
  bodyLimit?: number;
  /** Route modules to serve; defaults to coreRoutes. /openapi.json is always added. */
  routes?: RouteModule[];
  /** The engine behind runs, backup now and the cluster checks; without one the app serves CRUD only. */
  engine?: Engine;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler(bodyLimit),
    // Past the model's name limits, so a long name gets the name rule's message; far longer gets 414.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
  });
  const openapi = new OpenApiRegistry();
  app.addHook('onRoute', openapi.collect);
  registerErrorHandling(app, bodyLimit);
  registerJsonBodyParser(app);
  registerBearerAuth(app, options.token);

  const ctx: DaemonContext = { store: options.store, secrets: options.secrets, log: options.logger, engine: options.engine };
  const engine = options.engine;
  const engineRoutes = engine ? [runRoutes, opsRoutes({ ctx: engine.opsContext(), ops: engine.ops, webhook: engine.ops.webhook })] : [];
  for (const module of [...(options.routes ?? coreRoutes), ...engineRoutes, openApiRoutes(openapi)]) {
    await app.register(async (scope) => module(scope, ctx));
  }
  await app.ready();
  return app;
}

export interface StartOptions {
  /** HOST:PORT; port 0 picks a free one. Default 127.0.0.1:7788. */
  listen?: string;
  /** Default: defaultDataDir() ($OBBACKUP_DATA_DIR or ~/.obbackup). */
  dataDir?: string;
  /** Default `sqlite:` (obbackup.db in the data dir). */
  store?: string;
  tokenFile?: string;
  /** Where OBBACKUP_TOKEN, OBBACKUP_SECRET_KEY and OBBACKUP_DATA_DIR are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  logLevel?: string;
  bodyLimit?: number;
  routes?: RouteModule[];
  /** Engine settings (clock, scheduler, cluster checks); false: CRUD only, no engine. Default: on. */
  engine?: EngineOptions | false;
  /** Alarm events are POSTed here (else env OBBACKUP_WEBHOOK_URL; none when neither is set). */
  webhookUrl?: string;
}

export interface RunningDaemon {
  url: string;
  token: string;
  /** The token's file, unless it came from the environment. */
  tokenFile?: string;
  dataDir: string;
  app: FastifyInstance;
  store: Store;
  logger: Logger;
  engine?: Engine;
  /** Stops accepting requests, lets those in flight finish, closes the store. */
  close(): Promise<void>;
}

/** A start-up problem reported as one line: bad flag, unreadable file, unreachable store, wrong key. */
export class StartupError extends Error {}

const asStartupError = (err: unknown) =>
  err instanceof ConfigError || err instanceof SecretKeyError || err instanceof StoreOpenError || err instanceof StoreUrlError
    ? new StartupError(err.message)
    : err;

export async function startDaemon(options: StartOptions = {}): Promise<RunningDaemon> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ level: options.logLevel });
  let store: Store | undefined;
  try {
    const listen = parseListen(options.listen ?? DEFAULT_LISTEN);
    const dataDir = ensureDataDir(options.dataDir ?? defaultDataDir(env));
    const token = loadToken({ tokenFile: options.tokenFile, dataDir, env });
    const key = loadSecretKey(dataDir, env);
    const secrets = new SecretBox(key.key);
    store = await openStore({ url: options.store ?? 'sqlite:', dataDir });
    await verifyKeyAgainstStore(secrets, store, key.source === 'env' ? 'env OBBACKUP_SECRET_KEY' : key.file!);
    await fillNewDefaults(store, logger);

    if (token.created) logger.info({ file: token.file }, `generated the API token into ${token.file} (mode 0600); clients send it as ${TOKEN_ENV}`);
    if (key.created) logger.info({ file: key.file }, `generated the secret key into ${key.file} (mode 0600); back it up: stored secrets cannot be decrypted without it`);

    const webhookUrl = options.webhookUrl ?? (env[WEBHOOK_ENV] || undefined);
    const webhookProblem = webhookUrl === undefined ? undefined : checkWebhookUrl(webhookUrl);
    if (webhookProblem) throw new ConfigError(`${options.webhookUrl !== undefined ? '--webhook' : WEBHOOK_ENV}: ${webhookProblem}`);
    const engineOptions: EngineOptions | false =
      options.engine === false || !webhookUrl || options.engine?.ops === false
        ? (options.engine ?? {})
        : { ...options.engine, ops: { ...options.engine?.ops, webhook: new WebhookNotifier({ url: webhookUrl, log: logger }) } };
    if (webhookUrl && engineOptions !== false) logger.info({ webhook: redactWebhookUrl(webhookUrl) }, `alarm events go to ${redactWebhookUrl(webhookUrl)}`);
    const engine = engineOptions === false ? undefined : new Engine({ store, secrets, log: logger }, engineOptions);
    const app = await buildApp({ store, secrets, token: token.token, logger, bodyLimit: options.bodyLimit, routes: options.routes, engine });
    try {
      await app.listen({ host: listen.host, port: listen.port });
    } catch (err) {
      await app.close();
      throw new ConfigError(`cannot listen on ${listen.host}:${listen.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : listen.port;
    const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    const url = `http://${host}:${port}`;
    logger.info({ url, store: store.location, data_dir: dataDir, token_source: token.source }, `obbackupd listening on ${url}`);

    // In-flight runs are re-attached and the scheduler starts once the API answers.
    await engine?.start();
    const openedStore = store;
    let closing: Promise<void> | undefined;
    return {
      url,
      token: token.token,
      tokenFile: token.file,
      dataDir,
      app,
      store: openedStore,
      logger,
      engine,
      close() {
        closing ??= (async () => {
          await app.close();
          await engine?.stop();
          await openedStore.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await store?.close().catch(() => {});
    throw asStartupError(err);
  }
}
