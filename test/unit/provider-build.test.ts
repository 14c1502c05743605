// Packaging: an unchanged build keeps its version and its bytes (lock hashes stay valid); a changed build
// gets a new, higher version; installing lays out the mirror Terraform expects.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProvider, cliConfigSnippet, installPackage, terraformPlatform } from '../../provider/build.js';

const root = mkdtempSync(join(tmpdir(), 'obp-build-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

describe('buildProvider', () => {
  let first: Awaited<ReturnType<typeof buildProvider>>;

  it('packages a wrapper that execs node on the bundle, with a code cache', async () => {
    first = await buildProvider(join(root, 'out'));
    expect(first.version).toMatch(/^0\.1\.\d+$/);
    expect(readdirSync(first.dir).sort()).toEqual(['bundle.js', 'bundle.js.cache', 'provider.cjs', `terraform-provider-obbackup_v${first.version}`]);
    const wrapper = readFileSync(first.executable, 'utf8');
    expect(wrapper.startsWith('#!/bin/sh\n')).toBe(true);
    expect(wrapper).toMatch(/\nexec "\$node_bin" "\$dir\/provider\.cjs" "\$@"\n$/);
    expect(statSync(first.executable).mode & 0o111).toBe(0o111);
    // started by hand, it explains itself and exits 1
    let status = 0;
    let stderr = '';
    try {
      execFileSync(first.executable, [], { env: { PATH: process.env.PATH }, stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toContain('is a Terraform provider plugin');
  }, 60_000);

  it('an unchanged build keeps its version and leaves the package byte for byte', async () => {
    const before = snapshot(first.dir);
    const again = await buildProvider(join(root, 'out'));
    expect(again.version).toBe(first.version);
    expect(snapshot(again.dir)).toEqual(before);
  }, 60_000);

  it('a changed build gets a higher version', async () => {
    const info = join(root, 'out', 'build-info.json');
    // As if the previous build had other content.
    writeFileSync(info, JSON.stringify({ version: first.version, content_hash: 'different' }));
    const changed = await buildProvider(join(root, 'out'));
    expect(Number(changed.version.split('.')[2])).toBeGreaterThan(Number(first.version.split('.')[2]));
    expect(existsSync(changed.executable)).toBe(true);
    expect(existsSync(first.executable)).toBe(false);
  }, 60_000);
});

describe('installPackage', () => {
  it('installs under HOST/NAMESPACE/TYPE/VERSION/OS_ARCH and removes other versions', async () => {
    const pkg = await buildProvider(join(root, 'out'));
    const mirror = join(root, 'mirror');
    const stale = join(mirror, 'obbackup.local', 'oceanbase', 'obbackup', '0.1.1', terraformPlatform());
    execFileSync('mkdir', ['-p', stale]);
    const result = installPackage(pkg, mirror);
    expect(result.dir).toBe(join(mirror, 'obbackup.local', 'oceanbase', 'obbackup', pkg.version, terraformPlatform()));
    expect(result.removedVersions).toEqual(['0.1.1']);
    expect(statSync(join(result.dir, `terraform-provider-obbackup_v${pkg.version}`)).mode & 0o111).toBe(0o111);
    expect(cliConfigSnippet(mirror)).toContain(`path    = ${JSON.stringify(mirror)}`);
  }, 60_000);

  it('names platforms as Terraform does', () => {
    expect(terraformPlatform('linux', 'x64')).toBe('linux_amd64');
    expect(terraformPlatform('darwin', 'arm64')).toBe('darwin_arm64');
  });
});
