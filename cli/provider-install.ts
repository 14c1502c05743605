// `obbackup provider install [--mirror DIR]`: bundles the provider (or reuses the current build) and puts it
// where Terraform finds it without a registry, then prints the CLI configuration for that place.
//
// Versions: provider/build.ts gives every distinct build its own version (0.1.<n>). Earlier builds stay
// installed next to the new one, so a working directory whose .terraform.lock.hcl names an earlier build
// keeps working (Terraform never sees a changed package under a recorded version, hence no checksum
// mismatch) until `terraform init -upgrade` moves it to the newest. Only the newest KEPT_VERSIONS stay.
//
// Node: the wrapper Terraform starts runs $OBBACKUP_NODE if set, else `node` from Terraform's PATH, else
// the node that ran this install. The install reports which one that is and warns when it is too old.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildProvider,
  cliConfigSnippet,
  DEFAULT_OUT_DIR,
  defaultPluginDir,
  EXECUTABLE_PREFIX,
  PROVIDER_HOST,
  PROVIDER_NAMESPACE,
  PROVIDER_TYPE,
  terraformPlatform,
  type ProviderPackage,
} from '../provider/build.js';

export const PROVIDER_SOURCE = `${PROVIDER_HOST}/${PROVIDER_NAMESPACE}/${PROVIDER_TYPE}`;
/** Earlier builds kept in a plugin directory, so lock files naming them stay valid for a while. */
export const KEPT_VERSIONS = 5;
const MIN_NODE_MAJOR = 20;

const HELP = `Usage: obbackup provider install [--mirror DIR] [--cli-config FILE] [--build-dir DIR]

Bundles terraform-provider-obbackup (reusing the current build when nothing changed) and installs it as
${PROVIDER_SOURCE}:

  (default)          into Terraform's implied local mirror, ~/.terraform.d/plugins: Terraform finds it
                     without any configuration, as long as your CLI config has no provider_installation
  --mirror DIR       into DIR as a filesystem mirror; point TF_CLI_CONFIG_FILE at the printed configuration
  --cli-config FILE  also write that configuration to FILE
  --build-dir DIR    where the bundle is built (default: dist/provider in the obbackup package, or
                     ~/.obbackup/provider-build when that is not writable)

Every changed build gets a new version (0.1.<n>); earlier builds stay installed (the newest ${KEPT_VERSIONS}), so
configurations locked to one keep working. Move a configuration to the newest build with
\`terraform init -upgrade\` (cdktf: delete cdktf.out/stacks/<stack>/.terraform.lock.hcl, then deploy).

Node.js: Terraform starts the provider through a small sh wrapper that runs $OBBACKUP_NODE if set, else
\`node\` from Terraform's PATH, else the node that ran this install. It needs Node.js ${MIN_NODE_MAJOR} or later.
`;

export interface NodeChoice {
  /** What the wrapper will exec. */
  path: string;
  /** Why that one. */
  source: 'OBBACKUP_NODE' | 'PATH' | 'install';
  /** `v20.20.2`, or undefined when it could not be run. */
  version?: string;
}

export interface ProviderInstallResult {
  version: string;
  /** The package was built anew (false: the previous build was current and reused). */
  rebuilt: boolean;
  /** The version's directory already held exactly this build: nothing was copied. */
  alreadyInstalled: boolean;
  /** Root of the plugin directory / mirror (what a filesystem_mirror `path` names). */
  root: string;
  /** The installed package directory, root/HOST/NS/TYPE/VERSION/OS_ARCH. */
  dir: string;
  platform: string;
  keptVersions: string[];
  removedVersions: string[];
  cliConfig: string;
  node: NodeChoice;
}

export interface ProviderInstallOptions {
  /** A filesystem mirror directory; default the implied local mirror ~/.terraform.d/plugins. */
  mirror?: string;
  buildDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** A problem to report in one line. */
export class ProviderInstallError extends Error {}

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function defaultBuildDir(): string {
  return writable(DEFAULT_OUT_DIR) ? DEFAULT_OUT_DIR : join(homedir(), '.obbackup', 'provider-build');
}

/** Numeric order of x.y.z versions (the plugin directory holds only versions this command wrote). */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

function sameFiles(a: string, b: string): boolean {
  if (!existsSync(a) || !existsSync(b)) return false;
  const names = readdirSync(a).sort();
  const other = readdirSync(b).sort();
  if (names.join('\0') !== other.join('\0')) return false;
  return names.every((n) => {
    const fa = join(a, n);
    const fb = join(b, n);
    return statSync(fa).isFile() && statSync(fb).isFile() && readFileSync(fa).equals(readFileSync(fb));
  });
}

/**
 * Puts `pkg` into root/HOST/NS/TYPE/VERSION/PLATFORM (replacing that version's directory only when its
 * content differs), keeps the newest KEPT_VERSIONS versions and removes older ones.
 */
function installIntoPluginDir(pkg: ProviderPackage, root: string, platform: string) {
  const providerDir = join(root, PROVIDER_HOST, PROVIDER_NAMESPACE, PROVIDER_TYPE);
  const dir = join(providerDir, pkg.version, platform);
  const alreadyInstalled = sameFiles(pkg.dir, dir);
  if (!alreadyInstalled) {
    // Copy beside the target, then swap, so Terraform never sees a half-written package.
    const staging = `${dir}.installing-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    cpSync(pkg.dir, staging, { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  const versions = readdirSync(providerDir)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    .sort(compareVersions)
    .reverse();
  const keep = new Set([pkg.version, ...versions.filter((v) => v !== pkg.version).slice(0, KEPT_VERSIONS - 1)]);
  const removedVersions: string[] = [];
  for (const v of versions) {
    if (keep.has(v)) continue;
    rmSync(join(providerDir, v), { recursive: true, force: true });
    removedVersions.push(v);
  }
  const keptVersions = versions.filter((v) => keep.has(v) && v !== pkg.version);
  return { dir, alreadyInstalled, keptVersions, removedVersions };
}

/** The first executable file named `command` in env.PATH. */
export function findOnPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const entry of (env.PATH ?? '').split(delimiter)) {
    if (!entry) continue;
    const candidate = join(entry, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function nodeVersion(path: string): string | undefined {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The node the wrapper will run when Terraform starts it with this environment (same order as the wrapper). */
export function nodeForTerraform(env: NodeJS.ProcessEnv = process.env): NodeChoice {
  if (env.OBBACKUP_NODE) {
    const path = env.OBBACKUP_NODE.includes('/') ? resolve(env.OBBACKUP_NODE) : (findOnPath(env.OBBACKUP_NODE, env) ?? env.OBBACKUP_NODE);
    return { path, source: 'OBBACKUP_NODE', version: nodeVersion(path) };
  }
  const onPath = findOnPath('node', env);
  if (onPath) return { path: onPath, source: 'PATH', version: nodeVersion(onPath) };
  return { path: process.execPath, source: 'install', version: process.version };
}

function nodeMajor(version: string | undefined): number {
  return Number(/^v(\d+)/.exec(version ?? '')?.[1] ?? 0);
}

/** Builds (or reuses) the bundled provider and installs it. Throws ProviderInstallError with one line. */
export async function installProvider(options: ProviderInstallOptions = {}): Promise<ProviderInstallResult> {
  if (process.platform === 'win32') {
    throw new ProviderInstallError('the provider wrapper is a POSIX sh script: install it on Linux or macOS (or in WSL)');
  }
  const env = options.env ?? process.env;
  const root = resolve(options.mirror ?? defaultPluginDir());
  const buildDir = resolve(options.buildDir ?? defaultBuildDir());
  if (!writable(buildDir)) throw new ProviderInstallError(`cannot write the provider build directory ${buildDir}`);
  if (!writable(root)) throw new ProviderInstallError(`cannot write the plugin directory ${root}`);

  const infoPath = join(buildDir, 'build-info.json');
  const before = existsSync(infoPath) ? readFileSync(infoPath, 'utf8') : '';
  let pkg: ProviderPackage;
  try {
    pkg = await buildProvider(buildDir);
  } catch (err) {
    const first = ((err as { errors?: { text: string }[] }).errors?.[0]?.text ?? (err as Error).message).split('\n')[0];
    throw new ProviderInstallError(`bundling the provider failed: ${first}`);
  }
  const rebuilt = before !== readFileSync(infoPath, 'utf8');
  const platform = terraformPlatform();
  let installed: ReturnType<typeof installIntoPluginDir>;
  try {
    installed = installIntoPluginDir(pkg, root, platform);
  } catch (err) {
    throw new ProviderInstallError(`installing into ${root} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return {
    version: pkg.version,
    rebuilt,
    alreadyInstalled: installed.alreadyInstalled,
    root,
    dir: installed.dir,
    platform,
    keptVersions: installed.keptVersions,
    removedVersions: installed.removedVersions,
    cliConfig: cliConfigSnippet(root),
    node: nodeForTerraform(env),
  };
}

/** What the command prints after a successful install. */
export function describeInstall(result: ProviderInstallResult, options: { mirror: boolean; cliConfigFile?: string }): string {
  const lines: string[] = [];
  lines.push(`${result.rebuilt ? 'Built' : 'Reused the current build of'} ${EXECUTABLE_PREFIX} ${result.version}`);
  lines.push(`${result.alreadyInstalled ? 'Already installed in' : 'Installed into'} ${result.dir}`);
  const node = result.node;
  const from = { OBBACKUP_NODE: 'from OBBACKUP_NODE', PATH: 'first node on PATH', install: 'no node on PATH: the node that ran this install' }[node.source];
  lines.push(`Terraform will run it with node ${node.version ?? '(could not run it)'} at ${node.path} (${from})`);
  if (nodeMajor(node.version) < MIN_NODE_MAJOR) {
    lines.push(
      `warning: the provider needs Node.js ${MIN_NODE_MAJOR}+; set OBBACKUP_NODE=${process.execPath} in the environment Terraform runs in`,
    );
  }
  if (result.keptVersions.length > 0) {
    lines.push(
      `Earlier builds kept: ${result.keptVersions.join(', ')}. Configurations locked to one keep using it; move them to ${result.version} with`,
      `  terraform init -upgrade        (cdktf: delete cdktf.out/stacks/<stack>/.terraform.lock.hcl, then deploy)`,
    );
  }
  if (result.removedVersions.length > 0) lines.push(`Removed older builds: ${result.removedVersions.join(', ')}`);
  lines.push('');
  if (options.mirror) {
    lines.push(`Terraform CLI configuration for this mirror${options.cliConfigFile ? ` (written to ${options.cliConfigFile})` : ''}:`);
    lines.push(`save it as a file and export TF_CLI_CONFIG_FILE=<that file>; other providers still come from their registries.`);
  } else {
    lines.push('Terraform finds the provider here without configuration, unless your CLI configuration has a');
    lines.push(`provider_installation block; then use this one${options.cliConfigFile ? ` (written to ${options.cliConfigFile})` : ''}:`);
  }
  lines.push('', result.cliConfig.trimEnd(), '');
  lines.push('In a configuration:');
  lines.push(`  terraform { required_providers { obbackup = { source = "${PROVIDER_SOURCE}" } } }`);
  lines.push(`CDKTF: run deploy/diff/destroy with --skip-provider-lock (the provider is on no registry).`);
  return lines.join('\n') + '\n';
}

/** `obbackup provider install …` (argv after `install`). Returns the exit code. */
export async function runProviderInstall(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values: { mirror?: string; 'cli-config'?: string; 'build-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        mirror: { type: 'string' },
        'cli-config': { type: 'string' },
        'build-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err.write(`obbackup provider install: ${(e as Error).message.split('\n')[0]} (see obbackup provider install --help)\n`);
    return 2;
  }
  if (values.help) {
    out.write(HELP);
    return 0;
  }
  try {
    const result = await installProvider({ mirror: values.mirror, buildDir: values['build-dir'] });
    const cliConfigFile = values['cli-config'] ? resolve(values['cli-config']) : undefined;
    if (cliConfigFile) {
      try {
        writeFileSync(cliConfigFile, result.cliConfig);
      } catch (e) {
        throw new ProviderInstallError(`cannot write ${cliConfigFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    out.write(describeInstall(result, { mirror: values.mirror !== undefined, cliConfigFile }));
    return 0;
  } catch (e) {
    if (e instanceof ProviderInstallError) {
      err.write(`obbackup provider install: ${e.message}\n`);
      return 1;
    }
    err.write(`obbackup provider install: unexpected failure: ${(e as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}
