import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderProtocolMarkdown } from "../src/markdown.ts";

/** Rewrites docs/protocol.md from this package (`pnpm --filter @panel/protocol docs`). */
const target = fileURLToPath(new URL("../../../docs/protocol.md", import.meta.url));
writeFileSync(target, renderProtocolMarkdown());
console.log(`wrote ${target}`);
