export const LAB_SERVERS: { 'claude-code': string[]; codex: string[] };
export const SHARED_SERVER: string;
export function writeDemoHome(root: string, options?: { servers?: Record<string, string>; offline?: boolean }): { home: string; project: string; other: string };
