// go-plugin hygiene: magic cookie, protocol negotiation, the handshake line, mutual TLS on the unix socket,
// Shutdown making the process exit, hclog lines, the hand-built certificate.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { createServerCertificate } from '../../provider/plugin/cert.js';
import { createLogger, microsecondTimestamp } from '../../provider/plugin/log.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, parseProtocolVersions, rawStdBase64, serve } from '../../provider/plugin/serve.js';
import { loadServices } from '../../provider/proto/load.js';
import { buildDescriptorJson, DESCRIPTOR_FILE } from '../../provider/proto/generate.js';
import { readFileSync } from 'node:fs';
import { obbackupProvider } from '../../provider/provider.js';

const socketDir = mkdtempSync(join(tmpdir(), 'obp-sock-'));
afterAll(() => rmSync(socketDir, { recursive: true, force: true }));

function harness(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode: number | null = null;
  let onExit: () => void = () => {};
  const exited = new Promise<void>((r) => (onExit = r));
  const logs: string[] = [];
  const started = serve(obbackupProvider({}), {
    name: 'terraform-provider-obbackup',
    env,
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    exit: (code) => {
      exitCode = code;
      onExit();
    },
    logger: createLogger('test', 'trace', (l) => logs.push(l)),
  });
  return { out, err, started, exited, logs, exitCode: () => exitCode };
}

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

describe('handshake', () => {
  it('refuses to run outside Terraform, with a message and exit 1, nothing on stdout', async () => {
    const h = harness({});
    expect(await h.started).toBe(null);
    expect(h.exitCode()).toBe(1);
    expect(h.out).toEqual([]);
    expect(h.err.join('')).toContain('is a Terraform provider plugin: it is started by Terraform, not run directly');
  });

  it('reports an unsupported protocol on the handshake channel', async () => {
    const h = harness({ [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '4,5' });
    expect(await h.started).toBe(null);
    expect(h.exitCode()).toBe(1);
    expect(h.out).toEqual(['terraform-provider-obbackup failed to start: terraform-provider-obbackup speaks plugin protocol 6 (Terraform 1.0 or later); this Terraform offers protocol 4, 5\n']);
  });

  it('parses the offered versions as a set', () => {
    expect([...parseProtocolVersions('6,5')].sort()).toEqual([5, 6]);
    expect([...parseProtocolVersions(' 5 , 6 ,')].sort()).toEqual([5, 6]);
    expect(parseProtocolVersions(undefined).size).toBe(0);
  });

  it('serves tfplugin6 over mutual TLS on a unix socket and exits on Shutdown', async () => {
    const client = createServerCertificate(); // any CA:true cert with clientAuth works as Terraform's
    const h = harness({
      [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
      PLUGIN_PROTOCOL_VERSIONS: '5,6',
      PLUGIN_CLIENT_CERT: client.certPem,
      PLUGIN_UNIX_SOCKET_DIR: socketDir,
    });
    const running = await h.started;
    expect(running).not.toBe(null);
    expect(h.out).toHaveLength(1);
    const fields = h.out[0].trimEnd().split('|');
    expect(fields.slice(0, 3)).toEqual(['1', '6', 'unix']);
    expect(fields[3].startsWith(socketDir + '/plugin')).toBe(true);
    expect(fields[4]).toBe('grpc');
    expect(fields[5]).not.toContain('=');
    const serverDer = Buffer.from(fields[5], 'base64');
    const cert = new X509Certificate(serverDer);
    expect(cert.subjectAltName).toBe('DNS:localhost');
    expect(rawStdBase64(serverDer)).toBe(fields[5]);

    const services = loadServices();
    const Provider = grpc.makeGenericClientConstructor(services.provider, 'Provider');
    const Controller = grpc.makeGenericClientConstructor(services.controller, 'GRPCController');
    const options = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
    const mtls = grpc.credentials.createSsl(Buffer.from(pem(serverDer)), Buffer.from(client.keyPem), Buffer.from(client.certPem));
    const provider = new Provider(`unix:${fields[3]}`, mtls, options) as any;
    const schema: any = await new Promise((resolve, reject) => provider.GetProviderSchema({}, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
    expect(Object.keys(schema.resource_schemas).sort()).toEqual(['obbackup_backup', 'obbackup_cluster', 'obbackup_policy', 'obbackup_storage']);
    expect(Object.keys(schema.data_source_schemas).sort()).toEqual(['obbackup_backup_sets', 'obbackup_cluster_status']);
    const token = schema.provider.block.attributes.find((a: any) => a.name === 'token');
    expect(token.sensitive).toBe(true);
    provider.close();

    // A client without the certificate Terraform announced is refused.
    const stranger = createServerCertificate();
    const untrusted = new Provider(`unix:${fields[3]}`, grpc.credentials.createSsl(Buffer.from(pem(serverDer)), Buffer.from(stranger.keyPem), Buffer.from(stranger.certPem)), options) as any;
    await expect(
      new Promise((resolve, reject) => untrusted.GetProviderSchema({}, { deadline: Date.now() + 3000 }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)))),
    ).rejects.toThrow();
    untrusted.close();

    const controller = new Controller(`unix:${fields[3]}`, mtls, options) as any;
    const t0 = performance.now();
    await new Promise((resolve, reject) => controller.Shutdown({}, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
    await h.exited;
    expect(h.exitCode()).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(existsSync(fields[3])).toBe(false);
    controller.close();
  });
});

describe('certificate', () => {
  it('is a self-signed P-256 CA for localhost that verifies', () => {
    const c = createServerCertificate(new Date('2026-03-01T00:00:00Z'));
    const x = new X509Certificate(c.der);
    expect(x.ca).toBe(true);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(new Date(x.validFrom).getTime()).toBeLessThan(new Date('2026-03-01T00:00:00Z').getTime());
    expect(x.serialNumber).toMatch(/^[0-7]/); // positive
  });
});

describe('logging', () => {
  it('writes hclog JSON with microsecond timestamps, filtered by level', () => {
    const lines: string[] = [];
    const log = createLogger('p', 'info', (l) => lines.push(l));
    log.debug('hidden');
    log.info('shown', { k: 1 });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({ '@level': 'info', '@message': 'shown', '@module': 'p', k: 1 });
    expect(entry['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(microsecondTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 678) + 0.901)).toBe('2026-01-02T03:04:05.678901Z');
  });
});

describe('descriptors', () => {
  it('the committed descriptors match the .proto sources', () => {
    expect(readFileSync(DESCRIPTOR_FILE, 'utf8')).toBe(buildDescriptorJson());
  });
});
