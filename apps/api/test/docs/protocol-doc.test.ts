import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  PROTOCOL_DEFAULTS,
  PROTOCOL_DOC_COMMAND,
  renderProtocolMarkdown,
  WS_CLOSE,
  WS_CLOSE_REASONS,
  WS_ERRORS,
  WS_UPGRADE_ERRORS,
} from "@panel/protocol";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.ts";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const docPath = join(root, "docs/protocol.md");
const committed = readFileSync(docPath, "utf8");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const srcDirs = ["apps", "packages"].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name, "src")),
);
const sources = srcDirs
  .flatMap((dir) => {
    try {
      return sourceFiles(dir);
    } catch {
      return []; // a workspace without src
    }
  })
  .map((path) => ({ path: relative(root, path), text: readFileSync(path, "utf8") }));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
const anchors = new Set(
  [...committed.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
    (m[1] ?? "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-"),
  ),
);

describe("docs/protocol.md", () => {
  it("is what @panel/protocol generates", () => {
    const fresh = renderProtocolMarkdown();
    expect(
      committed === fresh,
      `docs/protocol.md is stale: run \`${PROTOCOL_DOC_COMMAND}\` and commit the result`,
    ).toBe(true);
  });

  it("lists every error string, close code, close reason and upgrade refusal", () => {
    for (const s of [...Object.values(WS_ERRORS), ...Object.values(WS_CLOSE_REASONS)]) {
      expect(committed, s).toContain(`\`${s}\``);
    }
    for (const error of Object.values(WS_UPGRADE_ERRORS)) {
      expect(committed, error).toContain(`\`${JSON.stringify({ error })}\``);
    }
    for (const code of Object.values(WS_CLOSE)) expect(committed, String(code)).toContain(`| \`${code}\` |`);
  });

  it("shows the numbers a fresh install runs with", () => {
    const { realtime } = loadConfig({});
    const configured = Object.fromEntries(
      Object.keys(PROTOCOL_DEFAULTS).map((key) => [key, realtime[key as keyof typeof PROTOCOL_DEFAULTS]]),
    );
    expect(configured).toEqual(PROTOCOL_DEFAULTS);
  });

  it("has every section the source code cites", () => {
    const cited = sources.flatMap(({ path, text }) =>
      [...text.matchAll(/docs\/protocol\.md#([\w-]+)/g)].map((m) => ({ path, anchor: m[1] ?? "" })),
    );
    expect(cited.length).toBeGreaterThan(0);
    for (const { path, anchor } of cited) expect(anchors.has(anchor), `${path} cites #${anchor}`).toBe(true);
  });
});

describe("the realtime code", () => {
  it("sends no wire string that is not in @panel/protocol", () => {
    // A string literal as an error, a close reason, an upgrade refusal body, or a constant
    // holding a sentence (the way these strings used to creep in).
    const literalOnWire =
      /\berror: ["'`]|\.close\([^)]*["'`]|rejectUpgrade\([^)]*["'`]|const [A-Z_]+ = "[A-Z][^"]* /;
    const offenders = sources
      .filter(({ path }) => path.startsWith("apps/api/src/realtime/"))
      .flatMap(({ path, text }) =>
        text
          .split("\n")
          .map((line, i) => ({ where: `${path}:${i + 1}`, line: line.trim() }))
          .filter(({ line }) => literalOnWire.test(line)),
      );
    expect(offenders, "put these strings in packages/protocol/src/errors.ts").toEqual([]);
  });
});
