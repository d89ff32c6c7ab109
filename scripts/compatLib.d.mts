// Types of compatLib.mjs for the TypeScript tests (test/unit/compat.test.ts).
export interface AreaCounts { passed: number; failed: number; pending: number; failures: string[] }
export type Areas = Record<string, AreaCounts>;
export interface CompatRow { kind: 'newest' | 'pinned' | 'previous' | 'given'; claude?: string; codex?: string }
export interface CompatOptions { rows: CompatRow[]; writeReadme: boolean; keep: boolean; grep: string | undefined; help: boolean }
export interface Versions { claude: string; codex: string }
export interface RowResult extends Versions { label?: string; areas: Areas; error?: undefined }
export interface RowError extends Versions { label?: string; error: string; areas?: undefined }
export interface MochaTest { title: string; fullTitle: string; file?: string; err?: Record<string, unknown> }
export interface MochaResult { stats?: Record<string, unknown>; tests?: MochaTest[]; failures?: MochaTest[]; pending?: MochaTest[]; passes?: MochaTest[] }
export const PREVIOUS_PINS: Readonly<Versions>;
export const CLAUDE_PACKAGE: string;
export const CODEX_PACKAGE: string;
export const AREA_ORDER: string[];
export const AREA_RULES: { area: string; file: RegExp; title?: RegExp }[];
export const README_START: string;
export const README_END: string;
export function areaOf(file: string | undefined, fullTitle: string): string;
export function summariseAreas(result: MochaResult): Areas;
export function verdictOf(counts: AreaCounts): string;
export function overallOf(areas: Areas): 'pass' | 'fail' | 'not run';
export function parseCompatArgs(argv: string[]): CompatOptions;
export function resolveRow(row: CompatRow, known: { pinned: Versions; newest?: Versions }): Versions & { label: string };
export function pinnedFrom(pkg: { devDependencies?: Record<string, string> }): Versions;
export function formatMatrix(results: (RowResult | RowError)[]): string;
export function rewriteVerifiedBlock(readme: string, results: (RowResult | RowError)[], date: string): string;
export function compareVersions(a: string, b: string): number;
