export function writeDemoHome(root: string, lab?: { mcpUrl?: string }): { home: string; project: string; other: string };
