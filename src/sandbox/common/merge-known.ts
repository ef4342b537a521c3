/** Merges known keys of `patch` into `target` when the types match; returns the names of rejected keys. */
export function mergeKnown<T extends object>(target: T, patch: unknown): string[] {
  const bad: string[] = [];
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return ['(body must be a JSON object)'];
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (!(k in target)) {
      bad.push(k);
      continue;
    }
    const cur = (target as Record<string, unknown>)[k];
    if (typeof cur !== typeof v) {
      bad.push(k);
      continue;
    }
    (target as Record<string, unknown>)[k] = v;
  }
  return bad;
}
