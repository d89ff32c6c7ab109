// What is wrong with a server URL as written in a config, in words that follow its name
// ("… is not an absolute URL"); undefined when a client could connect to it. Every reader uses it.
export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not an absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `uses ${parsed.protocol} instead of http: or https:`;
  return undefined;
}
