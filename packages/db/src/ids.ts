import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Random lowercase alphanumeric string; rejection sampling keeps it unbiased. */
export function randomShortId(length = 10): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
    }
  }
  return out;
}

export const ID_PREFIXES = {
  server: "srv",
  node: "node",
  location: "loc",
  blueprint: "bp",
  allocation: "alloc",
  user: "user",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind, short: string = randomShortId()): string {
  return `${ID_PREFIXES[kind]}_${short}`;
}
