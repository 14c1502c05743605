// Packages the provider for Terraform: one esbuild bundle (descriptors included, so nothing is parsed at
// start-up) plus the `terraform-provider-obbackup_v<version>` wrapper that execs node on it.
//
// Versions: Terraform's lock file records a hash of the package for each version, so a changed build must
// never reuse a version number. Each distinct build gets 0.1.<n> (base from package.json), where n is the
// build time in minutes since 2025-01-01 UTC, always above the previous build's n; an unchanged build keeps
// its version (same content, same lock hash). Installing a new build removes older versions from the
// target directory, so a configuration locked to an old build fails with Terraform's own instruction to
// run `terraform init -upgrade` instead of silently running old code.
//
//   npx tsx provider/build.ts [--out DIR] [--mirror DIR]
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { MAGIC_COOKIE_VALUE } from './plugin/serve.js';

export const PROVIDER_HOST = 'obbackup.local';
export const PROVIDER_NAMESPACE = 'oceanbase';
export const PROVIDER_TYPE = 'obbackup';
export const EXECUTABLE_PREFIX = `terraform-provider-${PROVIDER_TYPE}`;

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const EPOCH = Date.UTC(2025, 0, 1);
export const DEFAULT_OUT_DIR = join(ROOT, 'dist', 'provider');

export interface ProviderPackage {
  /** Directory holding the executable and the bundle: what goes into a mirror. */
  dir: string;
  version: string;
  contentHash: string;
  executable: string;
}

interface BuildInfo {
  version: string;
  content_hash: string;
}

/** Terraform's platform name for this machine (linux_amd64, darwin_arm64, ...). */
export function terraformPlatform(platform: string = process.platform, arch: string = process.arch): string {
  const archs: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  return `${platform === 'win32' ? 'windows' : platform}_${archs[arch] ?? arch}`;
}

function baseVersion(): [number, number] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const [major, minor] = pkg.version.split('.').map(Number);
  return [major || 0, minor || 0];
}

function wrapperScript(version: string, buildNode: string): string {
  // exec: go-plugin kills the process it started; a shell left in between would orphan node, which holds
  // Terraform's pipes open and hangs it. Node: OBBACKUP_NODE, else node on PATH, else the node that built it.
  return `#!/bin/sh
# ${EXECUTABLE_PREFIX} ${version}: started by Terraform. Runs the bundled provider with Node.js 20+.
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
node_bin=\${OBBACKUP_NODE:-}
if [ -z "$node_bin" ]; then
  if command -v node >/dev/null 2>&1; then node_bin=node; else node_bin='${buildNode.replace(/'/g, "'\\''")}'; fi
fi
if ! command -v "$node_bin" >/dev/null 2>&1; then
  echo "${EXECUTABLE_PREFIX} needs Node.js 20 or later: put node on PATH or set OBBACKUP_NODE to its path"
  exit 1
fi
exec "$node_bin" "$dir/provider.cjs" "$@"
`;
}

// Loads bundle.js through vm.Script with the V8 code cache made at build time: compiling the ~1 MB bundle
// is the largest single start-up cost, paid on each of Terraform's 3-5 launches per command. A cache made
// by another Node version is rejected by V8 and the bundle compiles as usual.
const LOADER = `'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');
const file = path.join(__dirname, 'bundle.js');
let cachedData;
try {
  cachedData = fs.readFileSync(file + '.cache');
} catch {}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
if (process.env.OBBACKUP_PROVIDER_WRITE_CODE_CACHE) {
  setTimeout(() => {
    fs.writeFileSync(file + '.cache', script.createCachedData());
    process.exit(0);
  }, 400);
}
const bundle = new Module(file, module);
bundle.filename = file;
script.runInThisContext()(bundle.exports, require, bundle, file, __dirname);
`;

/** Starts the package once as Terraform would, so the cache holds the start-up functions compiled. */
function writeCodeCache(dir: string): void {
  const socketDir = mkdtempSync(join(tmpdir(), 'obbackup-cache-'));
  try {
    execFileSync(process.execPath, [join(dir, 'provider.cjs')], {
      env: {
        ...process.env,
        TF_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE_VALUE,
        PLUGIN_PROTOCOL_VERSIONS: '6',
        PLUGIN_UNIX_SOCKET_DIR: socketDir,
        OBBACKUP_PROVIDER_WRITE_CODE_CACHE: '1',
        TF_LOG: '',
        TF_LOG_PROVIDER: '',
      },
      stdio: 'ignore',
      timeout: 30_000,
    });
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
}

/**
 * Bundles the provider into `outDir/package` and gives it a version. An unchanged build keeps its
 * version and its package is left untouched (byte for byte, as Terraform's lock file hashed it).
 */
export async function buildProvider(outDir: string = DEFAULT_OUT_DIR): Promise<ProviderPackage> {
  const result = await build({
    entryPoints: [join(HERE, 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'eof',
  });
  const code = result.outputFiles[0].contents;
  const contentHash = createHash('sha256').update(code).update(LOADER).digest('hex');

  const dir = join(outDir, 'package');
  const infoPath = join(outDir, 'build-info.json');
  const previous: BuildInfo | null = existsSync(infoPath) ? (JSON.parse(readFileSync(infoPath, 'utf8')) as BuildInfo) : null;
  if (previous && previous.content_hash === contentHash) {
    const executable = join(dir, `${EXECUTABLE_PREFIX}_v${previous.version}`);
    if (existsSync(executable) && existsSync(join(dir, 'bundle.js'))) return { dir, version: previous.version, contentHash, executable };
  }
  const [major, minor] = baseVersion();
  const previousPatch = previous ? Number(previous.version.split('.')[2]) || 0 : 0;
  const version = `${major}.${minor}.${Math.max(Math.floor((Date.now() - EPOCH) / 60_000), previousPatch + 1)}`;

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bundle.js'), code);
  writeFileSync(join(dir, 'provider.cjs'), LOADER);
  writeCodeCache(dir);
  const executable = join(dir, `${EXECUTABLE_PREFIX}_v${version}`);
  writeFileSync(executable, wrapperScript(version, process.execPath));
  chmodSync(executable, 0o755);
  writeFileSync(infoPath, JSON.stringify({ version, content_hash: contentHash } satisfies BuildInfo, null, 2) + '\n');
  return { dir, version, contentHash, executable };
}

export interface InstallResult {
  dir: string;
  version: string;
  removedVersions: string[];
}

/**
 * Installs a package into a Terraform provider directory laid out as HOST/NAMESPACE/TYPE/VERSION/OS_ARCH
 * (a filesystem mirror, or ~/.terraform.d/plugins), removing other versions of this provider there.
 */
export function installPackage(pkg: ProviderPackage, root: string, platform: string = terraformPlatform()): InstallResult {
  const providerDir = join(root, PROVIDER_HOST, PROVIDER_NAMESPACE, PROVIDER_TYPE);
  const removedVersions: string[] = [];
  if (existsSync(providerDir)) {
    for (const v of readdirSync(providerDir)) {
      if (v === pkg.version) continue;
      rmSync(join(providerDir, v), { recursive: true, force: true });
      removedVersions.push(v);
    }
  }
  const dir = join(providerDir, pkg.version, platform);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(pkg.dir, dir, { recursive: true });
  chmodSync(join(dir, `${EXECUTABLE_PREFIX}_v${pkg.version}`), 0o755);
  return { dir, version: pkg.version, removedVersions };
}

/** Terraform's implied local mirror: used with no provider_installation block in the CLI config. */
export function defaultPluginDir(): string {
  return join(homedir(), '.terraform.d', 'plugins');
}

/** A CLI configuration (for TF_CLI_CONFIG_FILE) that installs this provider from `mirrorDir` only. */
export function cliConfigSnippet(mirrorDir: string): string {
  const pattern = `${PROVIDER_HOST}/*/*`;
  return `provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(resolve(mirrorDir))}
    include = ["${pattern}"]
  }
  direct {
    exclude = ["${pattern}"]
  }
}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const opt = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const pkg = await buildProvider(opt('--out') ?? DEFAULT_OUT_DIR);
  process.stdout.write(`built ${EXECUTABLE_PREFIX} ${pkg.version} in ${pkg.dir}\n`);
  const mirror = opt('--mirror');
  if (mirror) {
    const installed = installPackage(pkg, mirror);
    process.stdout.write(`installed into ${installed.dir}\n\nCLI configuration for TF_CLI_CONFIG_FILE:\n${cliConfigSnippet(mirror)}`);
  }
}
