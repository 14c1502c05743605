// go-plugin's server side as Terraform expects it: magic cookie, protocol negotiation, AutoMTLS,
// a unix socket, the one handshake line on stdout, the controller/stdio/broker side services,
// and prompt exit on Shutdown.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ProviderDefinition } from '../framework/definitions.js';
import { ProviderRpc } from '../framework/rpc.js';
import { loadServices } from '../proto/load.js';
import { createServerCertificate } from './cert.js';
import { createLogger } from './log.js';
import type { Logger } from './log.js';

export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const CORE_PROTOCOL = 1;
const APP_PROTOCOL = 6;
// Longest path a unix socket address holds on Linux (sun_path is 108 bytes with the terminating NUL).
const MAX_SOCKET_PATH = 107;

export interface ServeOptions {
  name: string;
  env?: NodeJS.ProcessEnv;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  exit?: (code: number) => void;
  logger?: Logger;
}

export class StartupError extends Error {}

/** The protocol versions Terraform offers; the order varies between runs, so it is a set. */
export function parseProtocolVersions(raw: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (raw ?? '').split(',')) {
    const n = Number(part.trim());
    if (part.trim() !== '' && Number.isInteger(n)) out.add(n);
  }
  return out;
}

/** go-plugin reads the certificate with Go's RawStdEncoding: standard alphabet, no padding. */
export function rawStdBase64(der: Buffer): string {
  return der.toString('base64').replace(/=+$/, '');
}

export interface RunningPlugin {
  address: string;
  rpc: Promise<ProviderRpc<unknown>>;
  shutdown(): void;
}

/**
 * Serves a provider. The definition may be given as a loader: it then runs right after the handshake
 * line, while Terraform connects, so loading resources (and their validation libraries) adds nothing
 * to the time Terraform waits for the handshake.
 */
export async function serve<Client>(
  definition: ProviderDefinition<Client> | (() => Promise<ProviderDefinition<Client>>),
  options: ServeOptions,
): Promise<RunningPlugin | null> {
  const env = options.env ?? process.env;
  const stdout = options.stdout ?? ((line: string) => process.stdout.write(line));
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(line));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = options.logger ?? createLogger(options.name);

  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    stderr(
      `${options.name} is a Terraform provider plugin: it is started by Terraform, not run directly.\n` +
        `Install it with \`obbackup provider install\`, then use it from a Terraform or CDKTF configuration\n` +
        `(provider source "obbackup.local/oceanbase/obbackup").\n`,
    );
    exit(1);
    return null;
  }

  try {
    const offered = parseProtocolVersions(env.PLUGIN_PROTOCOL_VERSIONS);
    if (offered.size > 0 && !offered.has(APP_PROTOCOL))
      throw new StartupError(
        `${options.name} speaks plugin protocol ${APP_PROTOCOL} (Terraform 1.0 or later); this Terraform offers protocol ${[...offered].sort().join(', ')}`,
      );

    const services = loadServices();
    let startLoading!: () => void;
    const rpc: Promise<ProviderRpc<unknown>> = new Promise<void>((resolve) => (startLoading = resolve))
      .then(() => (typeof definition === 'function' ? definition() : definition))
      .then((def) => new ProviderRpc(def, log) as ProviderRpc<unknown>);
    rpc.catch((e: unknown) => log.error('provider failed to load', { error: e instanceof Error ? e.message : String(e) }));
    const server = new grpc.Server({
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc.max_send_message_length': 256 * 1024 * 1024,
      // channelz bookkeeping costs every call; nothing here reads it
      'grpc.enable_channelz': 0,
    });

    let socketPath: string | null = null;
    let exiting = false;
    const shutdown = () => {
      if (exiting) return;
      exiting = true;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        if (socketPath) rmSync(socketPath, { force: true });
        exit(0);
      };
      // Give the Shutdown reply a moment to be flushed (go-plugin ignores it, but other clients may not),
      // then leave: go-plugin waits for the exit, and kills a plugin still running after 2 s.
      const fallback = setTimeout(() => {
        server.forceShutdown();
        finish();
      }, 20);
      server.tryShutdown(() => {
        clearTimeout(fallback);
        finish();
      });
    };

    server.addService(services.provider, providerHandlers(rpc, log));
    server.addService(services.controller, {
      Shutdown: (_call: unknown, callback: grpc.sendUnaryData<object>) => {
        log.debug('shutdown requested');
        callback(null, {});
        setImmediate(shutdown);
      },
    });
    server.addService(services.stdio, {
      // Kept open without data: this provider writes logs to stderr, which go-plugin already relays.
      StreamStdio: (call: grpc.ServerWritableStream<object, object>) => {
        call.on('cancelled', () => call.end());
      },
    });
    server.addService(services.broker, {
      StartStream: (call: grpc.ServerDuplexStream<object, object>) => {
        call.on('data', () => {});
        call.on('end', () => call.end());
        call.on('error', () => {});
      },
    });
    server.addService(services.health, {
      Check: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, { status: 'SERVING' }),
      Watch: (call: grpc.ServerWritableStream<object, object>) => {
        call.write({ status: 'SERVING' });
        call.on('cancelled', () => call.end());
      },
    });

    const cert = createServerCertificate();
    const clientCert = env.PLUGIN_CLIENT_CERT;
    const credentials = clientCert
      ? grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ private_key: Buffer.from(cert.keyPem), cert_chain: Buffer.from(cert.certPem) }], true)
      : grpc.ServerCredentials.createInsecure();

    const dir = env.PLUGIN_UNIX_SOCKET_DIR || tmpdir();
    const candidate = join(dir, `plugin${randomBytes(8).toString('hex')}`);
    let network: 'unix' | 'tcp';
    let address: string;
    if (candidate.length <= MAX_SOCKET_PATH) {
      socketPath = candidate;
      await bind(server, `unix:${candidate}`, credentials);
      network = 'unix';
      address = candidate;
    } else {
      const port = await bindTcp(server, credentials, Number(env.PLUGIN_MIN_PORT) || 0, Number(env.PLUGIN_MAX_PORT) || 0);
      network = 'tcp';
      address = `127.0.0.1:${port}`;
    }

    // Terraform sends SIGINT to the whole process group on Ctrl-C; like go-plugin servers, keep serving
    // and let StopProvider (which Terraform sends next) cancel the work in flight.
    process.on('SIGINT', () => log.debug('interrupt received; waiting for StopProvider'));
    process.on('SIGTERM', shutdown);

    const fields = [CORE_PROTOCOL, APP_PROTOCOL, network, address, 'grpc'];
    if (clientCert) fields.push(rawStdBase64(cert.der));
    stdout(fields.join('|') + '\n');
    log.debug('plugin started', { address, network });
    startLoading();
    return { address, rpc, shutdown };
  } catch (e) {
    // Before the handshake, the first stdout line is the only text Terraform shows the user.
    const message = e instanceof Error ? e.message : String(e);
    stdout(`${options.name} failed to start: ${message.replace(/\s+/g, ' ')}\n`);
    log.error('startup failed', { error: message });
    exit(1);
    return null;
  }
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));
}

async function bindTcp(server: grpc.Server, credentials: grpc.ServerCredentials, min: number, max: number): Promise<number> {
  if (min > 0 && max >= min) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = min + Math.floor(Math.random() * (max - min + 1));
      try {
        return await bind(server, `127.0.0.1:${port}`, credentials);
      } catch {
        // taken: try another
      }
    }
  }
  return bind(server, '127.0.0.1:0', credentials);
}

const RPC_METHODS = [
  'GetMetadata',
  'GetProviderSchema',
  'ValidateProviderConfig',
  'ValidateResourceConfig',
  'ValidateDataResourceConfig',
  'UpgradeResourceState',
  'ConfigureProvider',
  'ReadResource',
  'PlanResourceChange',
  'ApplyResourceChange',
  'ImportResourceState',
  'MoveResourceState',
  'ReadDataSource',
  'ValidateEphemeralResourceConfig',
  'OpenEphemeralResource',
  'RenewEphemeralResource',
  'CloseEphemeralResource',
  'GetFunctions',
  'CallFunction',
  'StopProvider',
] as const;

function providerHandlers(ready: Promise<ProviderRpc<unknown>>, log: Logger): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of RPC_METHODS) {
    handlers[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const started = performance.now();
      ready
        .then((rpc) => (rpc[method] as (req: unknown) => unknown).call(rpc, call.request))
        .then(
          (res) => {
            log.trace(method, { duration_ms: Math.round((performance.now() - started) * 1000) / 1000, type_name: (call.request as { type_name?: string })?.type_name });
            callback(null, res);
          },
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            log.error(`${method} failed`, { error: message });
            callback({ code: grpc.status.INTERNAL, details: message });
          },
        );
    };
  }
  return handlers;
}
