/**
 * The import rules of the source tree, checked by `npm run check` (ARCHITECTURE.md, "Layers"):
 *
 * 1. No import cycle between files, type-only imports included (they show coupling too).
 * 2. `core/` imports nothing outside `core/` but `croner` and the standard `node:` modules it
 *    needs for nothing runtime-specific: no adapters, no wake-up layer, no runtime globals' modules.
 * 3. Nothing outside `bridges/` imports it: a bridge loads its client (NATS) only through its own
 *    subpath export (`honker-ts/bridges/nats`).
 * 4. Inside `core/`, the foundation (`db/`, `wait/`) imports no feature; a feature imports no
 *    value from another feature's class file (only its operations, SQL and types; a class may
 *    appear in a public signature as a type), so features stay rooms.
 *
 * Run: node_modules/.bin/deno run --allow-read scripts/check_imports.ts [root]   (default: cwd)
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import process from "node:process";

if (process.argv[2]) process.chdir(process.argv[2]);

const ROOTS = [
  "mod.ts",
  "core",
  "adapters",
  "wake",
  "platform",
  "testing",
  "cli",
  "bridges",
  "dashboard",
];
/** The file of each feature that holds its class: other features must not import it. */
const CLASS_FILES = new Set([
  "core/queue/queue.ts",
  "core/queue/queue_admin.ts",
  "core/queue/queue_producer.ts",
  "core/queue/job.ts",
  "core/stream/stream.ts",
  "core/scheduler/scheduler.ts",
  "core/outbox/outbox.ts",
]);
const FOUNDATION = ["core/db/", "core/wait/"];
const CORE_EXTERNAL_ALLOWED = new Set(["croner"]);

function tsFiles(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith(".ts") ? [path] : [];
  return readdirSync(path).flatMap((name) => tsFiles(join(path, name)));
}

const SPECIFIER = /(?:^|\n)\s*(import|export)(\s+type)?\s[^;]*?from\s+["']([^"']+)["']/g;

interface Import {
  spec: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const source = readFileSync(file, "utf8");
  return [...source.matchAll(SPECIFIER)].map((m) => ({ spec: m[3], typeOnly: m[2] !== undefined }));
}

const files = ROOTS.filter((root) => existsSync(root)).flatMap(tsFiles).map((f) => normalize(f));
const graph = new Map<string, string[]>();
/** Value imports only: the edges rule 3 looks at. */
const valueEdges = new Map<string, string[]>();
const problems: string[] = [];
for (const file of files) {
  const local: string[] = [];
  const values: string[] = [];
  for (const { spec, typeOnly } of importsOf(file)) {
    if (spec.startsWith(".")) {
      const target = relative(".", join(dirname(file), spec));
      local.push(target);
      if (!typeOnly) values.push(target);
      if (file.startsWith("core/") && !target.startsWith("core/")) {
        problems.push(`${file}: core/ imports ${target}, outside core/`);
      }
      if (target.startsWith("bridges/") && !file.startsWith("bridges/")) {
        problems.push(`${file}: imports ${target}; only its own subpath export loads a bridge`);
      }
    } else if (file.startsWith("core/") && !CORE_EXTERNAL_ALLOWED.has(spec)) {
      problems.push(`${file}: core/ imports the module ${spec}`);
    }
  }
  graph.set(file, local);
  valueEdges.set(file, values);
}

function featureOf(file: string): string | undefined {
  const m = /^core\/([a-z_]+)\//.exec(file);
  return m && !FOUNDATION.includes(`core/${m[1]}/`) ? m[1] : undefined;
}

for (const [file, targets] of graph) {
  for (const target of targets) {
    if (FOUNDATION.some((f) => file.startsWith(f)) && featureOf(target)) {
      problems.push(`${file}: the foundation imports the feature file ${target}`);
    }
  }
  for (const target of valueEdges.get(file) ?? []) {
    const from = featureOf(file);
    const to = featureOf(target);
    if (from && to && from !== to && CLASS_FILES.has(target)) {
      problems.push(`${file}: feature "${from}" imports ${target}, the class of "${to}"`);
    }
  }
}

// Cycles: Tarjan's strongly connected components.
let index = 0;
const indexOf = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
function connect(v: string): void {
  indexOf.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!indexOf.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v)!, low.get(w)!));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
  }
  if (low.get(v) === indexOf.get(v)) {
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) problems.push(`import cycle: ${component.sort().join(" ↔ ")}`);
  }
}
for (const v of graph.keys()) if (!indexOf.has(v)) connect(v);

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`imports ok: ${files.length} files, no cycle, core/ layered`);
