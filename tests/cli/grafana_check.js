#!/usr/bin/env node
// grafana_check.js - validate a generated dashboard and each of its panels against Grafana's schemas.
//
// Usage: node grafana_check.js SCHEMA_DIR DASHBOARD.json...
//
// SCHEMA_DIR holds dashboard, timeseries, prometheus and common
// .jsonschema.json (read in place). The dashboard must pass the dashboard
// schema; every panel must pass its Panel definition, be a timeseries panel
// whose options and fieldConfig.defaults.custom pass the timeseries schema,
// and every target must pass the Prometheus query schema. Prints one line
// per failure and exits 1 on any; prints a summary and exits 0 otherwise.
//
// SPDX-License-Identifier: MIT
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

function main() {
  const [dir, ...files] = process.argv.slice(2);
  if (!dir || files.length === 0) {
    console.error("usage: grafana_check.js SCHEMA_DIR DASHBOARD.json...");
    process.exit(2);
  }
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const name of ["common", "dashboard", "timeseries", "prometheus"]) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, `${name}.jsonschema.json`), "utf8"));
    // common.jsonschema.json repeats a value in one enum (ScaleDirection), which
    // the draft-07 meta-schema forbids; it is loaded for references only, so
    // skip checking it against the meta-schema.
    ajv.addSchema(schema, `${name}.json`, undefined, name !== "common");
  }
  let failures = 0;
  for (const file of files) {
    failures += checkDashboard(ajv, file);
  }
  if (failures) process.exit(1);
}

// Returns the number of failures in one dashboard file.
function checkDashboard(ajv, file) {
  const dashboard = JSON.parse(fs.readFileSync(file, "utf8"));
  let failures = 0;
  function check(ref, value, where) {
    const validate = ajv.getSchema(ref);
    if (!validate(value)) {
      failures++;
      for (const e of validate.errors) {
        console.log(`${file}: ${where}: ${ref}: ${e.instancePath || "/"} ${e.message}`);
      }
    }
  }
  check("dashboard.json", dashboard, "dashboard");
  const panels = [];
  for (const p of dashboard.panels || []) {
    panels.push(p);
    if (p.type === "row") panels.push(...(p.panels || []));
  }
  let timeseries = 0, targets = 0;
  const ids = new Set();
  for (const p of panels) {
    const where = `panel ${p.id} "${p.title}"`;
    if (ids.has(p.id)) {
      failures++;
      console.log(`${file}: ${where}: duplicate id`);
    }
    ids.add(p.id);
    if (p.type === "row") {
      check("dashboard.json#/definitions/RowPanel", p, where);
      continue;
    }
    check("dashboard.json#/definitions/Panel", p, where);
    if (p.type !== "timeseries") {
      failures++;
      console.log(`${file}: ${where}: type ${p.type}, not timeseries`);
      continue;
    }
    timeseries++;
    check("timeseries.json#/definitions/Options", p.options, `${where} options`);
    const defaults = (p.fieldConfig || {}).defaults || {};
    check("timeseries.json#/definitions/FieldConfig", defaults.custom || {},
      `${where} fieldConfig.defaults.custom`);
    for (const t of p.targets || []) {
      targets++;
      check("prometheus.json", t, `${where} target ${t.refId}`);
    }
  }
  if (failures === 0) {
    console.log(`${file}: ok: ${timeseries} timeseries panels, ${targets} targets`);
  }
  return failures;
}

main();
