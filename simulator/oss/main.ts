// `osssim` executable: an OSS-compatible endpoint on this machine.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startOssSim } from './index.js';

const USAGE = `Usage: osssim --access-key-id ID --access-key-secret SECRET [options]

An OSS-compatible endpoint storing objects on disk. Path-style addressing
(http://HOST:PORT/BUCKET/KEY), OSS signature V1. With ali-oss:
  new OSS({ endpoint: 'http://127.0.0.1:PORT', bucket, accessKeyId, accessKeySecret, sldEnable: true })

Options:
  --port N                 port to listen on (default 9000; 0 picks a free one)
  --host ADDR              address to listen on (default 127.0.0.1)
  --data-dir DIR           where objects are kept (default ./osssim-data)
  --access-key-id ID       the accepted AccessKey id (or env OSSSIM_ACCESS_KEY_ID)
  --access-key-secret S    its secret (or env OSSSIM_ACCESS_KEY_SECRET, which keeps it out of the process list)
  --buckets a,b            buckets to create at start (others are created with PutBucket)
  --region NAME            region reported by GetBucketInfo (default oss-cn-hangzhou)
  --verbose                print one line per request
  --help                   this text
`;

function fail(message: string): never {
  process.stderr.write(`osssim: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '9000' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: './osssim-data' },
      'access-key-id': { type: 'string' },
      'access-key-secret': { type: 'string' },
      buckets: { type: 'string', default: '' },
      region: { type: 'string', default: 'oss-cn-hangzhou' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}

if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got "${args.port}"`);
const accessKeyId = args['access-key-id'] ?? process.env.OSSSIM_ACCESS_KEY_ID;
const accessKeySecret = args['access-key-secret'] ?? process.env.OSSSIM_ACCESS_KEY_SECRET;
if (!accessKeyId) fail('an access key id is required (--access-key-id or OSSSIM_ACCESS_KEY_ID)');
if (!accessKeySecret) fail('an access key secret is required (--access-key-secret or OSSSIM_ACCESS_KEY_SECRET)');
const buckets = args.buckets.split(',').map((b) => b.trim()).filter(Boolean);
const dataDir = resolve(args['data-dir']);

try {
  const sim = await startOssSim({
    accessKeyId,
    accessKeySecret,
    port,
    host: args.host,
    dataDir,
    buckets,
    region: args.region,
    onRequest: args.verbose
      ? (r) => process.stdout.write(`${new Date().toISOString()} ${r.status} ${r.operation} ${r.bucket ?? ''}${r.key !== undefined ? `/${r.key}` : ''}\n`)
      : undefined,
  });
  process.stdout.write(
    `osssim listening on ${sim.endpoint} (path-style, signature V1), data in ${dataDir}` +
      `${buckets.length ? `, buckets: ${buckets.join(', ')}` : ''}, access key id ${accessKeyId}\n`,
  );
  const shutdown = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (error) {
  const err = error as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE') fail(`port ${port} on ${args.host} is already in use`);
  if (err.code === 'EACCES') fail(`not allowed to listen on ${args.host}:${port} or to write ${dataDir}`);
  fail(err.message);
}
