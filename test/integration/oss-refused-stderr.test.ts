// The real obbackupd asked to register an OSS storage whose endpoint refuses connections: the answer says
// what is wrong and where, and nothing of ali-oss's HTTP client (urllib) reaches stderr — no warning, no
// stack trace.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, request, tempDir } from '../support/daemon.js';
import { closedPort } from '../support/ob-driver.js';
import { startDaemonProcess, type DaemonProcess } from '../support/obbackupd-process.js';

describe('an OSS endpoint that refuses connections', () => {
  let dataDir: string;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    dataDir = tempDir('obbackupd-oss-refused-');
    daemon = await startDaemonProcess(['--listen', '127.0.0.1:0', '--data-dir', dataDir]);
  });

  afterAll(async () => {
    if (daemon) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is refused with a clear message; stderr carries no warning or stack trace', async () => {
    const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const spec = fixtures.ossStorage({ path: 'dr-bkt/ob', endpoint, access_key_id: 'refused-key-id', access_key_secret: 'refused-key-secret' });
    // Twice: the storage test streams an object to the endpoint each time.
    for (let i = 0; i < 2; i++) {
      const res = await request(daemon.url, token, 'PUT', '/v1/storages/dr', spec);
      expect(res.status, res.text).toBe(422);
      expect(res.body.message).toMatch(
        new RegExp(`^storage "dr" failed the storage test: write "\\.obbackup-probe-[0-9a-f]+" on oss://dr-bkt/ob \\(${endpoint}\\) failed: cannot reach ${endpoint} \\(ECONNREFUSED\\)$`),
      );
      expect(res.body.details).toEqual([{ path: 'endpoint', message: expect.stringContaining(`cannot reach ${endpoint} (ECONNREFUSED)`) }]);
    }
    // Output is written asynchronously: let the child's last writes arrive.
    await new Promise((r) => setTimeout(r, 200));
    const stderr = daemon.stderr();
    expect(stderr).not.toContain('urllib');
    expect(stderr).not.toMatch(/\n\s+at |stack:/);
    expect(stderr).not.toContain('refused-key-secret');
  });
});
