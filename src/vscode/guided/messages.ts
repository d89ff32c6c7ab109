// What the guided-flow webview may say to the extension. The webview is a page (its content comes
// from servers' answers, escaped, but still): every message is checked here before it is acted
// on, and one that does not fit is dropped.
import * as z from 'zod';
import { GUIDED_STEPS, type GuidedStepId } from '../../core/guided/steps';

const StepId = z.enum(GUIDED_STEPS.map((s) => s.id) as [GuidedStepId, ...GuidedStepId[]]);

/** One step as the webview rendered it (for the tests: what the user sees, not what the host meant). */
export const RenderedStep = z.object({
  id: StepId,
  status: z.enum(['pending', 'running', 'waiting', 'done', 'skipped', 'failed', 'blocked']),
  verdict: z.enum(['', 'pass', 'warn', 'fail', 'info']),
  summary: z.string().max(2000),
});
export type RenderedStep = z.infer<typeof RenderedStep>;

export const WebviewMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }).strict(),
  z.object({ type: z.literal('run'), step: StepId }).strict(),
  z.object({ type: z.literal('runReadOnly') }).strict(),
  z.object({ type: z.literal('cancel') }).strict(),
  z.object({ type: z.literal('restart') }).strict(),
  z.object({ type: z.literal('rendered'), version: z.number().int().nonnegative(), steps: z.array(RenderedStep).max(GUIDED_STEPS.length) }).strict(),
]);
export type WebviewMessage = z.infer<typeof WebviewMessage>;

export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  const parsed = WebviewMessage.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
