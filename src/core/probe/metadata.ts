// Schemas for the two metadata documents a server hands out (untrusted input): RFC 9728
// protected-resource metadata and RFC 8414 / OpenID authorization-server metadata. Each field is
// checked on its own so one wrong member is reported by name and the rest is still used (the
// SDK's OAuthMetadataSchema fails the whole document instead).
import * as z from 'zod';

const urlString = z.string().min(1);
const stringList = z.array(z.string());

export const ProtectedResourceMetadataFields = {
  resource: urlString,
  authorization_servers: stringList,
  scopes_supported: stringList,
  bearer_methods_supported: stringList,
  resource_name: z.string(),
} as const;

export const AuthorizationServerMetadataFields = {
  issuer: urlString,
  authorization_endpoint: urlString,
  token_endpoint: urlString,
  registration_endpoint: urlString,
  response_types_supported: stringList,
  grant_types_supported: stringList,
  code_challenge_methods_supported: stringList,
  token_endpoint_auth_methods_supported: stringList,
  scopes_supported: stringList,
  client_id_metadata_document_supported: z.boolean(),
  authorization_response_iss_parameter_supported: z.boolean(),
} as const;

type Parsed<F extends Record<string, z.ZodType>> = { [K in keyof F]?: z.infer<F[K]> };

export type ProtectedResourceMetadata = Parsed<typeof ProtectedResourceMetadataFields>;
export type AuthorizationServerMetadata = Parsed<typeof AuthorizationServerMetadataFields>;

export interface DocumentParse<T> {
  /** The members that had the right type; wrong ones are left out and named in `problems`. */
  document?: T;
  /** In words, e.g. `authorization_servers is a string, not a list of strings`. */
  problems: string[];
}

const EXPECTED: Record<string, string> = { string: 'a string', array: 'a list of strings', boolean: 'true or false' };

function parseDocument<F extends Record<string, z.ZodType>>(text: string | undefined, fields: F): DocumentParse<Parsed<F>> {
  if (text === undefined || text.trim() === '') return { problems: ['the body is empty'] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const start = text.trimStart().slice(0, 1);
    const hint = start === '<' ? ' (it looks like HTML)' : '';
    return { problems: [`the body is not JSON${hint}: ${(err as Error).message}`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [`the body is ${Array.isArray(value) ? 'a JSON array' : `JSON ${value === null ? 'null' : typeof value}`}, not an object`] };
  }
  const record = value as Record<string, unknown>;
  const document: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(fields)) {
    if (!(name in record) || record[name] === undefined) continue;
    const r = schema.safeParse(record[name]);
    if (r.success) document[name] = r.data;
    else problems.push(`${name} is ${describe(record[name])}, not ${EXPECTED[schemaKind(schema)] ?? 'what RFC 8414 / RFC 9728 define'}`);
  }
  return { document: document as Parsed<F>, problems };
}

function schemaKind(schema: z.ZodType): string {
  if (schema instanceof z.ZodArray) return 'array';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  return 'string';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') ? 'a list' : 'a list with non-strings in it';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export function parseProtectedResourceMetadata(text: string | undefined): DocumentParse<ProtectedResourceMetadata> {
  return parseDocument(text, ProtectedResourceMetadataFields);
}

export function parseAuthorizationServerMetadata(text: string | undefined): DocumentParse<AuthorizationServerMetadata> {
  return parseDocument(text, AuthorizationServerMetadataFields);
}

/** `application/json` or any `+json` type (RFC 6839); metadata MUST be JSON (RFC 9728 §3.2, RFC 8414 §3.2). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const t = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return t === 'application/json' || t.endsWith('+json');
}

export function isHtml(contentType: string | undefined, body: string | undefined): boolean {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  if (t === 'text/html' || t === 'application/xhtml+xml') return true;
  return /^\s*<(!doctype html|html|head|body)\b/i.test(body ?? '');
}
