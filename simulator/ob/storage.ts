// Backup destinations as the database sees them: file:// on the local file system, oss:// through the OSS API.
import { mkdir, readFile, readdir, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import OSS from 'ali-oss';
import { obError, ObError } from './errors.js';

export interface BackupStorage {
  /** the destination without credentials, as shown in PATH columns */
  readonly displayUri: string;
  write(path: string, data: Buffer | string): Promise<void>;
  append(path: string, data: Buffer | string): Promise<void>;
  read(path: string): Promise<Buffer | null>;
  /** relative paths of every object under the prefix ('' = the whole destination) */
  list(prefix: string): Promise<string[]>;
  deleteTree(prefix: string): Promise<void>;
  /** checks the destination can be reached with its credentials (9070/9071 otherwise) */
  probe(): Promise<void>;
}

export interface ParsedUri {
  scheme: 'file' | 'oss';
  bucket: string;
  path: string;
  params: Record<string, string>;
}

/** Parses `file:///abs/path` or `oss://bucket/dir?host=..&access_id=..&access_key=..` (reference §1). */
export function parseBackupUri(uri: string): ParsedUri {
  const m = /^(file|oss):\/\/([^?]*)(?:\?(.*))?$/i.exec(uri.trim());
  if (!m) throw new ObError(9026, `${redactUri(uri)} is not a valid uri`);
  const scheme = m[1].toLowerCase() as 'file' | 'oss';
  const params: Record<string, string> = {};
  for (const kv of (m[3] ?? '').split('&').filter(Boolean)) {
    const i = kv.indexOf('=');
    params[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
  }
  if (scheme === 'file') {
    const path = m[2].replace(/\/+$/, '');
    if (!path.startsWith('/') || m[3] !== undefined) throw new ObError(9026, `${redactUri(uri)} is not a valid uri`);
    return { scheme, bucket: '', path, params };
  }
  const [bucket, ...rest] = m[2].split('/');
  if (!bucket || !params.host || !params.access_id || !params.access_key) throw new ObError(9026, `${redactUri(uri)} is not a valid uri`);
  return { scheme, bucket, path: rest.join('/').replace(/\/+$/, ''), params };
}

/** The URI without access_id/access_key, as OceanBase shows destinations back. */
export function redactUri(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return uri;
  const kept = uri
    .slice(q + 1)
    .split('&')
    .filter((kv) => !/^access_(id|key)=/i.test(kv));
  return kept.length ? `${uri.slice(0, q)}?${kept.join('&')}` : uri.slice(0, q);
}

export function openStorage(uri: string): BackupStorage {
  const p = parseBackupUri(uri);
  return p.scheme === 'file' ? new FileStorage(p.path) : new OssStorage(p, redactUri(uri));
}

class FileStorage implements BackupStorage {
  constructor(private readonly root: string) {}
  get displayUri(): string {
    return `file://${this.root}`;
  }
  private abs(path: string): string {
    return path ? join(this.root, path) : this.root;
  }
  async probe(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      const s = await stat(this.root);
      if (!s.isDirectory()) throw new Error('not a directory');
    } catch {
      throw obError(9071);
    }
  }
  async write(path: string, data: Buffer | string): Promise<void> {
    const abs = this.abs(path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, data);
  }
  async append(path: string, data: Buffer | string): Promise<void> {
    const abs = this.abs(path);
    await mkdir(dirname(abs), { recursive: true });
    await appendFile(abs, data);
  }
  async read(path: string): Promise<Buffer | null> {
    try {
      return await readFile(this.abs(path));
    } catch {
      return null;
    }
  }
  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string) => {
      let entries;
      try {
        entries = await readdir(this.abs(rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(child);
        else out.push(child);
      }
    };
    await walk(prefix.replace(/\/+$/, ''));
    return out.sort();
  }
  async deleteTree(prefix: string): Promise<void> {
    await rm(this.abs(prefix), { recursive: true, force: true });
  }
}

class OssStorage implements BackupStorage {
  private readonly client: OSS;
  constructor(private readonly uri: ParsedUri, readonly displayUri: string) {
    const host = uri.params.host;
    const endpoint = /^https?:\/\//.test(host) ? host : /^(localhost|\d+\.\d+\.\d+\.\d+)(:\d+)?$/.test(host) ? `http://${host}` : `https://${host}`;
    this.client = new OSS({
      endpoint,
      accessKeyId: uri.params.access_id,
      accessKeySecret: uri.params.access_key,
      bucket: uri.bucket,
      // a local endpoint addresses buckets path-style (/bucket/object)
      sldEnable: true,
      timeout: 10_000,
    } as OSS.Options);
  }
  private key(path: string): string {
    return [this.uri.path, path].filter(Boolean).join('/');
  }
  private fail(e: unknown): never {
    const code = (e as { code?: string; status?: number })?.code ?? '';
    if (/AccessKey|Signature|AccessDenied|Forbidden/i.test(code) || (e as { status?: number })?.status === 403) throw obError(9071);
    throw obError(9070);
  }
  async probe(): Promise<void> {
    try {
      await this.client.list({ prefix: this.key(''), 'max-keys': 1 } as OSS.ListObjectsQuery, {});
    } catch (e) {
      this.fail(e);
    }
  }
  async write(path: string, data: Buffer | string): Promise<void> {
    try {
      await this.client.put(this.key(path), Buffer.from(data));
    } catch (e) {
      this.fail(e);
    }
  }
  async append(path: string, data: Buffer | string): Promise<void> {
    // objects are not appendable through every OSS-compatible endpoint: read, concatenate, rewrite
    const old = (await this.read(path)) ?? Buffer.alloc(0);
    await this.write(path, Buffer.concat([old, Buffer.from(data)]));
  }
  async read(path: string): Promise<Buffer | null> {
    try {
      const r = await this.client.get(this.key(path));
      return Buffer.from(r.content as Buffer);
    } catch (e) {
      if ((e as { code?: string }).code === 'NoSuchKey' || (e as { status?: number }).status === 404) return null;
      this.fail(e);
    }
  }
  async list(prefix: string): Promise<string[]> {
    const base = this.key('');
    const full = this.key(prefix);
    const out: string[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const r = await this.client.list({ prefix: full ? `${full.replace(/\/+$/, '')}/` : '', marker, 'max-keys': 1000 } as OSS.ListObjectsQuery, {});
        for (const o of r.objects ?? []) out.push(base ? o.name.slice(base.length + 1) : o.name);
        if (!r.isTruncated) break;
        marker = r.nextMarker;
      }
    } catch (e) {
      this.fail(e);
    }
    return out.sort();
  }
  async deleteTree(prefix: string): Promise<void> {
    const names = await this.list(prefix);
    try {
      for (const n of names) await this.client.delete(this.key(n));
    } catch (e) {
      this.fail(e);
    }
  }
}
