// The leak check every hardening test shares: a secret counts as leaked when the text holds it or
// any 16-character piece of it (a token cut by a width limit or a line break still leaks).
import { randomBytes } from 'node:crypto';

export function leaks(text: string, secret: string): boolean {
  for (let i = 0; i + 16 <= secret.length; i++) if (text.includes(secret.slice(i, i + 16))) return true;
  return false;
}

/** A token as servers issue them: 32 random base64url characters, minted at test time. */
export function mintToken(): string {
  return randomBytes(24).toString('base64url');
}
