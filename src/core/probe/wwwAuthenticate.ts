// A WWW-Authenticate parser by the RFC 9110 §11.6.1 grammar: several challenges in one field (or
// in several fields joined with ", "), auth-params with token or quoted-string values
// (backslash escapes), token68 credentials. The SDKs use a regex that takes the first
// `name=value` after "Bearer " (sdk 1.32.2 extractWWWAuthenticateParams), which misreads escaped
// quotes and multiple challenges; we need the real structure to say what a server sent.
// Hostile input never throws and always terminates: every step advances or stops.

export interface Challenge {
  /** Lower-cased auth-scheme, e.g. `bearer` (schemes are case-insensitive). */
  scheme: string;
  /** The scheme as sent, for display. */
  rawScheme: string;
  /** Lower-cased parameter names to values (quotes removed, escapes resolved); the first of duplicates wins. */
  params: Record<string, string>;
  token68?: string;
}

export interface ParsedChallenges {
  challenges: Challenge[];
  /** What did not follow the grammar, in words; empty for a well-formed header. */
  problems: string[];
}

/** Longer than any real challenge; the rest is ignored and reported. */
const MAX_LENGTH = 16 * 1024;
const MAX_CHALLENGES = 32;

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const TOKEN68_CHAR = /^[A-Za-z0-9\-._~+/]$/;

export function parseWwwAuthenticate(header: string | null | undefined): ParsedChallenges {
  const challenges: Challenge[] = [];
  const problems: string[] = [];
  if (header === null || header === undefined) return { challenges, problems };
  let s = header;
  if (s.length > MAX_LENGTH) {
    problems.push(`header is ${s.length} characters long; only the first ${MAX_LENGTH} were read`);
    s = s.slice(0, MAX_LENGTH);
  }
  const n = s.length;
  let i = 0;

  const at = (k: number): string => s.charAt(k);
  const ws = () => {
    while (i < n && (at(i) === ' ' || at(i) === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TCHAR.test(at(i))) i++;
    return s.slice(start, i);
  };
  /** At an opening quote: the unescaped content, or undefined when the quote never closes. */
  const quoted = (): string | undefined => {
    i++;
    let out = '';
    while (i < n) {
      const c = at(i);
      if (c === '\\') {
        if (i + 1 >= n) return undefined;
        out += at(i + 1);
        i += 2;
      } else if (c === '"') {
        i++;
        return out;
      } else {
        out += c;
        i++;
      }
    }
    return undefined;
  };
  /** Skips to the next comma outside quotes (error recovery). */
  const skipToComma = () => {
    while (i < n && at(i) !== ',') {
      if (at(i) === '"') {
        if (quoted() === undefined) i = n;
      } else i++;
    }
  };
  /** token68 (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`) ending the challenge. */
  const tryToken68 = (): string | undefined => {
    const start = i;
    let k = i;
    while (k < n && TOKEN68_CHAR.test(at(k))) k++;
    if (k === start) return undefined;
    while (k < n && at(k) === '=') k++;
    const end = k;
    while (k < n && (at(k) === ' ' || at(k) === '\t')) k++;
    if (k < n && at(k) !== ',') return undefined;
    i = k;
    return s.slice(start, end);
  };

  outer: while (i < n) {
    ws();
    while (i < n && at(i) === ',') {
      i++;
      ws();
    }
    if (i >= n) break;
    if (challenges.length >= MAX_CHALLENGES) {
      problems.push(`more than ${MAX_CHALLENGES} challenges; the rest were ignored`);
      break;
    }
    const scheme = token();
    if (!scheme) {
      problems.push(`expected an auth-scheme at character ${i + 1}, found ${JSON.stringify(at(i))}`);
      skipToComma();
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), rawScheme: scheme, params: Object.create(null) as Record<string, string> };
    challenges.push(challenge);
    if (i >= n || at(i) === ',') continue;
    if (at(i) !== ' ' && at(i) !== '\t') {
      problems.push(`${scheme}: unexpected ${JSON.stringify(at(i))} after the scheme`);
      skipToComma();
      continue;
    }
    ws();
    if (i >= n) break;
    const t68 = tryToken68();
    if (t68 !== undefined) {
      challenge.token68 = t68;
      continue;
    }
    while (i < n) {
      ws();
      if (at(i) === ',') {
        i++;
        continue;
      }
      if (i >= n) break;
      const save = i;
      const name = token();
      if (!name) {
        problems.push(`${scheme}: expected a parameter name at character ${i + 1}, found ${JSON.stringify(at(i))}`);
        skipToComma();
        continue;
      }
      ws();
      if (at(i) !== '=') {
        // Not `name=`: a new challenge starts with this token as its scheme.
        i = save;
        continue outer;
      }
      i++;
      ws();
      let value: string | undefined;
      if (at(i) === '"') {
        value = quoted();
        if (value === undefined) {
          problems.push(`${scheme}: the quoted value of ${name} never ends`);
          break outer;
        }
      } else {
        value = token();
        if (!value) problems.push(`${scheme}: ${name} has no value`);
      }
      const key = name.toLowerCase();
      if (Object.prototype.hasOwnProperty.call(challenge.params, key)) {
        problems.push(`${scheme}: parameter ${key} appears more than once; the first is used`);
      } else if (value) {
        challenge.params[key] = value;
      }
      ws();
      if (i < n && at(i) !== ',') {
        problems.push(`${scheme}: unexpected ${JSON.stringify(at(i))} after ${name}`);
        skipToComma();
      }
    }
  }
  return { challenges, problems };
}

/** RFC 6750 §3 / RFC 9728 §5.1 parameters of a Bearer challenge. */
export interface BearerChallenge {
  realm?: string;
  scope?: string;
  error?: string;
  errorDescription?: string;
  resourceMetadata?: string;
}

/** The first Bearer challenge, if any (clients take the first one too). */
export function bearerChallenge(parsed: ParsedChallenges): BearerChallenge | undefined {
  const c = parsed.challenges.find((ch) => ch.scheme === 'bearer');
  if (!c) return undefined;
  const p = c.params;
  const out: BearerChallenge = {};
  if (p.realm !== undefined) out.realm = p.realm;
  if (p.scope !== undefined) out.scope = p.scope;
  if (p.error !== undefined) out.error = p.error;
  if (p.error_description !== undefined) out.errorDescription = p.error_description;
  if (p.resource_metadata !== undefined) out.resourceMetadata = p.resource_metadata;
  return out;
}
