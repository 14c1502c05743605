// Types of bin/bundle.js (plain JavaScript: it runs before any TypeScript can be loaded).
export declare const ROOT: string;
export declare const CACHE_DIR: string;
export declare const BUNDLE_OPTIONS: {
  readonly bundle: true;
  readonly platform: 'node';
  readonly format: 'esm';
  readonly target: 'node20';
  readonly packages: 'external';
  readonly logLevel: 'silent';
};
export declare function buildErrorLine(err: unknown): string;
export declare function ensureBundle(options: { entry: string; name: string; cacheDir?: string }): Promise<{ file: string; built: boolean }>;
