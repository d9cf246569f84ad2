import { ID_PREFIXES, type IdKind } from "@panel/db";

/**
 * The shape of every id the API hands out: `srv_…`, `node_…`, `user_…` and so on (see
 * packages/db/src/ids.ts), and the plugin-made API key ids, which carry no prefix. An id of
 * another shape cannot name anything, so it is refused before any query is made with it.
 */
export type IdShape = IdKind | "apiKey";

const ID_BODY = "[A-Za-z0-9_-]{1,64}";

const ID_PATTERNS: Record<IdShape, RegExp> = {
  ...(Object.fromEntries(
    Object.entries(ID_PREFIXES).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}_${ID_BODY}$`)]),
  ) as Record<IdKind, RegExp>),
  apiKey: new RegExp(`^${ID_BODY}$`),
};

export function isIdOf(shape: IdShape, value: string): boolean {
  return ID_PATTERNS[shape].test(value);
}
