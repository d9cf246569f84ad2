// `node bench/profile-top.mjs <file.cpuprofile> [n]`: self time by function, and by package.
import { readFileSync } from "node:fs";

const [file, n = "30"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8"));
const total = profile.endTime - profile.startTime; // µs
const samples = profile.samples.length;
const perSample = total / samples;
const self = new Map();
const byPkg = new Map();
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url
    .replace(/^.*node_modules\/\.pnpm\/([^/]+)\/.*$/, "$1")
    .replace(/^.*\/(apps|packages)\//, "$1/");
  const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + node.hitCount);
  const pkg = url ? (url.startsWith("node:") ? "node internals" : short.split(":")[0]) : functionName;
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + node.hitCount);
}
const show = (map, count) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([k, v]) =>
        `${((v * perSample) / 1000).toFixed(0).padStart(8)} ms ${((100 * v) / samples).toFixed(1).padStart(5)}%  ${k}`,
    )
    .join("\n");
console.log(
  `${(total / 1e6).toFixed(1)} s profiled, ${samples} samples\n\n-- by package --\n${show(byPkg, 15)}\n\n-- by function (self) --\n${show(self, Number(n))}`,
);
