// The MCP authorization spec revisions a probe grades against, and the one it speaks by default.
// Sources: modelcontextprotocol/modelcontextprotocol docs/specification/<revision>/basic/authorization*
// (snapshot b0f60ba); shared/docs/spec-and-peers.md §1.1 has the change table.
import type { SpecRevision } from '../model';

export type { SpecRevision } from '../model';

/** Oldest first. 2026-07-28 is the latest (the draft matches it). */
export const REVISIONS: readonly SpecRevision[] = ['2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'];

/**
 * What the probe speaks and grades against unless told otherwise: the revision Claude Code and
 * Codex implement today (SDK 1.32.2 LATEST_PROTOCOL_VERSION), so findings match what they do.
 */
export const DEFAULT_REVISION: SpecRevision = '2025-11-25';

export function revisionIndex(r: SpecRevision): number {
  return REVISIONS.indexOf(r);
}

/** `r` and every later revision. */
export function since(r: SpecRevision): SpecRevision[] {
  return REVISIONS.slice(revisionIndex(r));
}

/** Every revision up to and including `r`. */
export function through(r: SpecRevision): SpecRevision[] {
  return REVISIONS.slice(0, revisionIndex(r) + 1);
}

export const ALL_REVISIONS: SpecRevision[] = [...REVISIONS];

/** 2026-07-28 is stateless: no initialize; every request carries its version in `_meta` (versioning.mdx). */
export function isStateless(r: SpecRevision): boolean {
  return revisionIndex(r) >= revisionIndex('2026-07-28');
}

/** 2025-03-26 had no protected-resource metadata: the MCP server's origin is the AS. */
export function hasResourceMetadata(r: SpecRevision): boolean {
  return revisionIndex(r) >= revisionIndex('2025-06-18');
}

export function isSpecRevision(v: string): v is SpecRevision {
  return (REVISIONS as readonly string[]).includes(v);
}
