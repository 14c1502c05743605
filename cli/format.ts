// Text for a person: aligned tables, a progress bar, times with how long ago, sizes.

/** Columns padded to their widest cell; the last column is cut to fit `width` when given. */
export function table(headers: string[], rows: string[][], width?: number): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const lines = all.map((r) => {
    let line = r.map((cell, i) => (i === r.length - 1 ? (cell ?? '') : (cell ?? '').padEnd(widths[i]!))).join('  ');
    if (width && line.length > width) line = `${line.slice(0, Math.max(10, width - 1))}…`;
    return line.trimEnd();
  });
  return `${lines.join('\n')}\n`;
}

/** `[########------------]  42.0%`; an unknown progress shows an empty bar and `?`. */
export function progressBar(percent: number | null | undefined, width = 24): string {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return `[${'-'.repeat(width)}]      ?`;
  const p = Math.max(0, Math.min(100, percent));
  const filled = Math.round((p / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.toFixed(1).padStart(5)}%`;
}

export function duration(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)}h` : ''}`;
}

/** `2025-01-06 02:00 UTC (3h ago)` / `(in 2d 4h)`; `-` for none. */
export function when(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const text = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const delta = (now - at.getTime()) / 1000;
  if (Math.abs(delta) < 1) return `${text} (now)`;
  return delta >= 0 ? `${text} (${duration(delta)} ago)` : `${text} (in ${duration(-delta)})`;
}

/** Short form for tables: `01-06 02:00`. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toISOString().slice(5, 16).replace('T', ' ');
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function percent(p: number | null | undefined): string {
  return p === null || p === undefined ? '-' : `${Math.round(p)}%`;
}
