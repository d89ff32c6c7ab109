// mcp-auth-doctor: the command-line twin of the extension, over the same core.
async function main(argv: string[]): Promise<number> {
  process.stdout.write(`mcp-auth-doctor: ${argv.join(' ')}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mcp-auth-doctor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
