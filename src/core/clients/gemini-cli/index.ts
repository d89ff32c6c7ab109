// Gemini CLI: what the registry imports (definition.ts), like the other clients' folders.
export { geminiCli } from './definition';
