/** A policy must not throw on odd input (types.ts): a bug or a surprise becomes a `frozen` decision naming it. */
import type { PolicyContext, PolicyDecision, PolicyName } from './types';

export function frozenOnError(policy: PolicyName, decide: (ctx: PolicyContext) => PolicyDecision[]): (ctx: PolicyContext) => PolicyDecision[] {
  return (ctx) => {
    try {
      return decide(ctx);
    } catch (err) {
      return [{ policy, container: ctx.container, decision: 'frozen', reason: `${policy} could not decide: ${err instanceof Error ? err.message : String(err)}`, actions: [] }];
    }
  };
}
