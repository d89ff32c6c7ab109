// opencode: what the registry imports (definition.ts), like the other clients' folders.
export { opencode } from './definition';
