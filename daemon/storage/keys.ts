/**
 * Orders keys as OSS lists them: by UTF-8 bytes, which is code point order (JavaScript's `<` compares
 * UTF-16 units and differs above U+D7FF).
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return rank(ca) - rank(cb);
  }
  return a.length - b.length;
}

function rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** A prefix as a directory: `a/b` → `a/b/`, `` stays ``. */
export function asDirectory(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** Total bytes and count of listed objects. */
export async function tally(objects: AsyncIterable<{ size: number }>): Promise<{ bytes: number; count: number }> {
  let bytes = 0;
  let count = 0;
  for await (const object of objects) {
    bytes += object.size;
    count += 1;
  }
  return { bytes, count };
}
