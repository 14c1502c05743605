// Keeps storage credentials and passwords out of every message, log line and returned path.

const MASK = '***';

// `access_key=…`/`access_id=…` in OceanBase storage URIs (also `secret_key`/`sts_token` variants, and
// their percent-encoded form inside a quoted SQL literal). A value ends at `&`, a quote, whitespace or `)`.
const URI_SECRET = /\b(access_key|access_id|secret_key|sts_token|appid)=([^&'"\s)]*)/gi;
const IDENTIFIED_BY = /(IDENTIFIED\s+BY\s+)('(?:\\.|''|[^'\\])*'|"(?:\\.|""|[^"\\])*"|\S+)/gi;
const PASSWORD_ASSIGN = /\b(password|passwd)(\s*[=:]\s*)('(?:\\.|''|[^'\\])*'|"(?:\\.|""|[^"\\])*"|[^\s,;&)]+)/gi;

/**
 * Replaces every credential in `text` with `***`: URI credential parameters, `IDENTIFIED BY '…'`,
 * `password=…`, and every literal secret the caller knows of (a cluster password, for example).
 */
export function redact(text: string, knownSecrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of knownSecrets) {
    // Short strings would mask ordinary words; a password that short is not worth hiding this way.
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out
    .replace(URI_SECRET, (_m, key: string) => `${key}=${MASK}`)
    .replace(IDENTIFIED_BY, (_m, head: string) => `${head}'${MASK}'`)
    .replace(PASSWORD_ASSIGN, (_m, key: string, sep: string) => `${key}${sep}${MASK}`);
}

/** A destination URI as it may be shown: credentials masked, everything else kept. */
export function redactUri(uri: string): string {
  return uri.replace(URI_SECRET, (_m, key: string) => `${key}=${MASK}`);
}

const CREDENTIAL_PARAMS = new Set(['access_key', 'access_id', 'secret_key', 'sts_token']);

/**
 * The URI without its credential parameters: `oss://b/p?host=h&access_id=i&access_key=k` →
 * `oss://b/p?host=h`. OceanBase 4.x shows destinations back this way (credentials are stored apart),
 * so this is also the form compared when deciding whether a destination changed.
 */
export function stripUriCredentials(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return uri;
  const kept = uri
    .slice(q + 1)
    .split('&')
    .filter((part) => part !== '' && !CREDENTIAL_PARAMS.has(part.split('=')[0].toLowerCase()));
  return kept.length === 0 ? uri.slice(0, q) : `${uri.slice(0, q)}?${kept.join('&')}`;
}

/** True when the URI carries a credential parameter. */
export function hasUriCredentials(uri: string): boolean {
  const q = uri.indexOf('?');
  if (q < 0) return false;
  return uri
    .slice(q + 1)
    .split('&')
    .some((part) => CREDENTIAL_PARAMS.has(part.split('=')[0].toLowerCase()));
}

/**
 * Whether the destination read back from the database (`current`) is the one wanted (`desired`).
 * Where the database shows credentials (3.x parameters) the whole URIs are compared; where it hides
 * them (4.x) only what it shows is compared, so a changed key alone is not seen here — callers that
 * know the secret changed pass `force` to the setters.
 */
export function sameDestination(current: string | null, desired: string): boolean {
  if (current === null || current === '') return desired === '';
  const norm = (u: string) => u.trim().replace(/\/+(\?|$)/, '$1');
  if (hasUriCredentials(current)) return norm(current) === norm(desired);
  const a = norm(stripUriCredentials(current));
  const b = norm(stripUriCredentials(desired));
  if (a === b) return true;
  // Some versions show only scheme + path; then the query part cannot be compared.
  return !a.includes('?') && a === b.split('?')[0].replace(/\/+$/, '');
}

/** The credential values a URI carries (to register as known secrets before the URI is sent anywhere). */
export function uriSecrets(uri: string): string[] {
  const q = uri.indexOf('?');
  if (q < 0) return [];
  const out: string[] = [];
  for (const part of uri.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0 && CREDENTIAL_PARAMS.has(part.slice(0, eq).toLowerCase()) && eq < part.length - 1) out.push(part.slice(eq + 1));
  }
  return out;
}
