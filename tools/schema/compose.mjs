#!/usr/bin/env node
// Composes the federated supergraph from the subgraph SDL files listed in
// supergraph.yaml, checks it for breaking changes against the committed
// schema/supergraph.graphql, and either writes the results (`write`) or
// verifies that the committed files are up to date (`check`).
//
// Usage (from the repository root):
//   node tools/schema/compose.mjs <write|check> [--subgraph-dir DIR]
//                                 [--allow-breaking] [--root DIR]
//
//   --subgraph-dir DIR  read freshly exported SDL from DIR/<name>.graphql
//                       instead of the committed files named in supergraph.yaml
//   --allow-breaking    do not fail on BREAKING changes to the public API
//   --root DIR          repository root holding supergraph.yaml (default: cwd)
//
// Exit codes: 0 ok, 1 check/composition/breaking failure, 2 usage or I/O error.

import { existsSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { buildASTSchema, parse } from "graphql";
import {
  composeServices,
  compositionHasErrors,
  transformSupergraphToPublicSchema,
} from "@theguild/federation-composition";
import { diff, CriticalityLevel } from "@graphql-inspector/core";
import YAML from "yaml";

const USAGE =
  "usage: node tools/schema/compose.mjs <write|check> [--subgraph-dir DIR] [--allow-breaking] [--root DIR]";

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { mode: null, subgraphDir: null, allowBreaking: false, root: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const eq = arg.indexOf("=");
      if (eq !== -1) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const name = arg.split("=")[0];
    if (name === "--subgraph-dir") opts.subgraphDir = path.resolve(value());
    else if (name === "--root") opts.root = path.resolve(value());
    else if (arg === "--allow-breaking") opts.allowBreaking = true;
    else if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else if (!arg.startsWith("-") && opts.mode === null) opts.mode = arg;
    else throw new UsageError(`unexpected argument: ${arg}`);
  }
  if (opts.mode !== "write" && opts.mode !== "check") {
    throw new UsageError(opts.mode === null ? "missing mode" : `unknown mode: ${opts.mode}`);
  }
  return opts;
}

/** Only trailing whitespace / newlines at the end of a file are insignificant. */
function normalize(text) {
  return text.replace(/\s+$/, "") + "\n";
}

function readIfExists(file) {
  return existsSync(file) ? readFileSync(file, "utf8") : null;
}

function rel(root, file) {
  const r = path.relative(root, file);
  return r && !r.startsWith("..") && !path.isAbsolute(r) ? r : file;
}

function loadConfig(root) {
  const configPath = path.join(root, "supergraph.yaml");
  if (!existsSync(configPath)) throw new UsageError(`${configPath} not found (use --root?)`);
  const config = YAML.parse(readFileSync(configPath, "utf8"));
  const entries = Object.entries(config?.subgraphs ?? {});
  if (entries.length === 0) throw new UsageError(`${configPath}: no subgraphs listed`);
  const baseDir = path.dirname(configPath);
  return entries.map(([name, sg]) => {
    const file = sg?.schema?.file;
    if (typeof file !== "string") {
      throw new UsageError(`supergraph.yaml: subgraph "${name}" needs schema.file`);
    }
    if (typeof sg.routing_url !== "string") {
      throw new UsageError(`supergraph.yaml: subgraph "${name}" needs routing_url`);
    }
    return { name, url: sg.routing_url, committedPath: path.resolve(baseDir, file) };
  });
}

// ---------------------------------------------------------------------------
// Minimal unified diff (line based, LCS on the differing middle part).

function unifiedDiff(oldText, newText, oldName, newName, context = 3) {
  const a = oldText === null ? [] : normalize(oldText).replace(/\n$/, "").split("\n");
  const b = newText === null ? [] : normalize(newText).replace(/\n$/, "").split("\n");
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);

  // ops: [' ', line] | ['-', line] | ['+', line]
  const ops = a.slice(0, pre).map((l) => [" ", l]);
  if (am.length * bm.length <= 25_000_000) {
    const n = am.length, m = bm.length;
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i][j] = am[i] === bm[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) { ops.push([" ", am[i]]); i++; j++; }
      else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push(["-", am[i++]]);
      else ops.push(["+", bm[j++]]);
    }
  } else {
    for (const l of am) ops.push(["-", l]);
    for (const l of bm) ops.push(["+", l]);
  }
  for (const l of a.slice(a.length - suf)) ops.push([" ", l]);

  const out = [`--- ${oldName}`, `+++ ${newName}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k][0] === " ") { k++; continue; }
    // Build one hunk around a run of changes, merging runs closer than 2*context.
    let start = Math.max(0, k - context);
    let end = k;
    while (end < ops.length) {
      if (ops[end][0] !== " ") { end++; continue; }
      let next = end;
      while (next < ops.length && ops[next][0] === " ") next++;
      if (next < ops.length && next - end <= 2 * context) { end = next; continue; }
      break;
    }
    end = Math.min(ops.length, end + context);
    let oldLine = 1, newLine = 1;
    for (let x = 0; x < start; x++) {
      if (ops[x][0] !== "+") oldLine++;
      if (ops[x][0] !== "-") newLine++;
    }
    const hunk = ops.slice(start, end);
    const oldCount = hunk.filter((o) => o[0] !== "+").length;
    const newCount = hunk.filter((o) => o[0] !== "-").length;
    out.push(`@@ -${oldCount ? oldLine : oldLine - 1},${oldCount} +${newCount ? newLine : newLine - 1},${newCount} @@`);
    for (const [op, line] of hunk) out.push(op + line);
    k = end;
  }
  return out.join("\n");
}

// ---------------------------------------------------------------------------

function publicSchemaFromSupergraph(supergraphSdl) {
  return buildASTSchema(transformSupergraphToPublicSchema(parse(supergraphSdl)), {
    assumeValidSDL: true,
  });
}

const IGNORED_PATH = /^(join__|link__|federation__|inaccessible__)/;
const ORDER = [CriticalityLevel.Breaking, CriticalityLevel.Dangerous, CriticalityLevel.NonBreaking];

async function breakingChangeReport(committedSupergraph, newSupergraph) {
  let oldSchema;
  try {
    oldSchema = publicSchemaFromSupergraph(committedSupergraph);
  } catch (err) {
    return { error: `cannot read the committed supergraph: ${err.message}` };
  }
  const newSchema = publicSchemaFromSupergraph(newSupergraph);
  const changes = (await diff(oldSchema, newSchema)).filter(
    (c) => !(c.path && IGNORED_PATH.test(c.path.replace(/^@/, ""))),
  );
  changes.sort(
    (x, y) =>
      ORDER.indexOf(x.criticality.level) - ORDER.indexOf(y.criticality.level) ||
      (x.path ?? "").localeCompare(y.path ?? ""),
  );
  return { changes };
}

function printChanges(changes) {
  const count = (lvl) => changes.filter((c) => c.criticality.level === lvl).length;
  if (changes.length === 0) {
    console.log("API changes vs committed supergraph: none");
    return;
  }
  console.log(
    `API changes vs committed supergraph: ${changes.length} ` +
      `(${count(CriticalityLevel.Breaking)} breaking, ${count(CriticalityLevel.Dangerous)} dangerous, ` +
      `${count(CriticalityLevel.NonBreaking)} non-breaking)`,
  );
  for (const c of changes) {
    // First sentence of the reason only; inspector's reasons can be a paragraph long.
    const reason = c.criticality.reason && c.criticality.level !== CriticalityLevel.NonBreaking
      ? ` (${c.criticality.reason.split(/(?<=\.)\s/)[0].replace(/\.$/, "")})` : "";
    console.log(`  [${c.criticality.level}] ${c.message}${reason}`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { root, mode } = opts;
  const subgraphs = loadConfig(root);
  const supergraphPath = path.join(root, "schema", "supergraph.graphql");
  let failed = false;
  const fail = (msg) => {
    failed = true;
    console.error(msg);
  };

  // 1. Load the SDL of every subgraph.
  for (const sg of subgraphs) {
    sg.sourcePath = opts.subgraphDir ? path.join(opts.subgraphDir, `${sg.name}.graphql`) : sg.committedPath;
    sg.sdl = readIfExists(sg.sourcePath);
    if (sg.sdl === null) {
      throw new UsageError(`subgraph "${sg.name}": ${rel(root, sg.sourcePath)} not found`);
    }
  }
  if (opts.subgraphDir) {
    const listed = new Set(subgraphs.map((s) => `${s.name}.graphql`));
    const extra = readdirSync(opts.subgraphDir).filter((f) => f.endsWith(".graphql") && !listed.has(f));
    for (const f of extra) {
      fail(`error: ${path.join(opts.subgraphDir, f)} was exported but "${f.replace(/\.graphql$/, "")}" is not listed in supergraph.yaml`);
    }
  }

  // 2. Compose.
  const services = [];
  for (const sg of subgraphs) {
    try {
      services.push({ name: sg.name, url: sg.url, typeDefs: parse(sg.sdl) });
    } catch (err) {
      fail(`error: ${rel(root, sg.sourcePath)}: ${err.message}`);
    }
  }
  if (failed) return 1;
  const result = composeServices(services);
  if (compositionHasErrors(result)) {
    console.error(`Composition failed with ${result.errors.length} error(s):`);
    for (const err of result.errors) {
      const code = err.extensions?.code ? `[${err.extensions.code}] ` : "";
      console.error(`  - ${code}${err.message}`);
    }
    return 1;
  }
  const supergraphSdl = normalize(result.supergraphSdl);
  console.log(`Composed ${subgraphs.length} subgraph(s): ${subgraphs.map((s) => s.name).join(", ")}`);

  // 3. Breaking-change detection against the committed supergraph.
  const committedSupergraph = readIfExists(supergraphPath);
  let breaking = 0;
  if (committedSupergraph === null) {
    console.log(`No committed ${rel(root, supergraphPath)}; skipping breaking-change detection.`);
  } else {
    const report = await breakingChangeReport(committedSupergraph, supergraphSdl);
    if (report.error) {
      breaking = 1;
      console.error(`error: ${report.error}`);
    } else {
      printChanges(report.changes);
      breaking = report.changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking).length;
    }
  }
  if (breaking > 0) {
    if (opts.allowBreaking) {
      console.log(`warning: ${breaking} breaking change(s) accepted because of --allow-breaking.`);
    } else {
      fail(
        `error: ${breaking} breaking change(s) to the public API. ` +
          "If they are intended, rerun with --allow-breaking.",
      );
    }
  }

  // 4. Compare / write files.
  const outputs = [];
  if (opts.subgraphDir) {
    for (const sg of subgraphs) outputs.push({ file: sg.committedPath, content: normalize(sg.sdl), from: sg.sourcePath });
  }
  outputs.push({ file: supergraphPath, content: supergraphSdl, from: null });
  const stale = outputs.filter((o) => {
    const current = readIfExists(o.file);
    return current === null || normalize(current) !== o.content;
  });

  if (mode === "check") {
    for (const o of stale) {
      const current = readIfExists(o.file);
      const name = rel(root, o.file);
      fail(
        `error: ${name} is ${current === null ? "missing" : "out of date"}` +
          ` (regenerate with scripts/schema.sh update):\n` +
          unifiedDiff(current, o.content, current === null ? "/dev/null" : `a/${name}`, `b/${name}`),
      );
    }
    if (failed) {
      console.error("Schema check FAILED.");
      return 1;
    }
    console.log("Schema check passed: committed SDL and supergraph are up to date.");
    return 0;
  }

  // write mode
  if (failed) {
    console.error("Nothing written.");
    return 1;
  }
  for (const o of outputs) {
    const name = rel(root, o.file);
    if (!stale.includes(o)) {
      console.log(`unchanged ${name}`);
      continue;
    }
    mkdirSync(path.dirname(o.file), { recursive: true });
    writeFileSync(o.file, o.content);
    console.log(`wrote     ${name}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n${USAGE}`);
    } else {
      console.error(err?.stack ?? String(err));
    }
    process.exit(2);
  },
);
