// mcp-remote: what the rest sees of this folder.
export { mcpRemote } from './definition';
