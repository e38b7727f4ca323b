// Lint Cypher statements with Neo4j's official linter (@neo4j-cypher/language-support).
//
// stdin: JSON {"statements": [{"name", "query", "params": [names]}], "schema": {labels,
//        relationshipTypes, propertyKeys, graphSchema: [{from, relType, to}]},
//        "cypherVersions": ["CYPHER 5", "CYPHER 25"]}
// stdout: JSON {"linterVersion", "results": [{"name", "cypherVersion", "diagnostics": [...]}]}
//
// Each statement is linted once per Cypher version with a schema that declares exactly its own
// parameters, the labels / relationship types / property keys / graph paths of the model, and
// Neo4j's built-in functions and procedures only (no APOC): anything else is a diagnostic.
import { readFileSync } from 'node:fs';
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const linterVersion = JSON.parse(
  readFileSync(
    new URL('./node_modules/@neo4j-cypher/language-support/package.json', import.meta.url),
    'utf8',
  ),
).version;

function builtinsOnly(registry) {
  // The package's reference registry of a real Neo4j: keep Neo4j's own, drop APOC (not on
  // Community by default) so that using it is reported as an unknown function / procedure.
  const result = {};
  for (const [version, entries] of Object.entries(registry ?? {})) {
    result[version] = Object.fromEntries(
      Object.entries(entries).filter(([name]) => !name.startsWith('apoc.')),
    );
  }
  return result;
}

const input = JSON.parse(readFileSync(0, 'utf8'));
const functions = builtinsOnly(testData.mockSchema.functions);
const procedures = builtinsOnly(testData.mockSchema.procedures);
const versions = input.cypherVersions ?? ['CYPHER 5', 'CYPHER 25'];

const results = [];
for (const statement of input.statements) {
  const parameters = Object.fromEntries(statement.params.map((name) => [name, null]));
  for (const cypherVersion of versions) {
    const dbSchema = {
      ...input.schema,
      parameters,
      functions,
      procedures,
      defaultLanguage: cypherVersion,
    };
    const { diagnostics } = lintCypherQuery(statement.query, dbSchema);
    results.push({
      name: statement.name,
      cypherVersion,
      diagnostics: diagnostics.map((d) => ({
        severity: d.severity === 1 ? 'error' : d.severity === 2 ? 'warning' : String(d.severity),
        message: d.message,
        offsets: d.offsets,
        text: statement.query.slice(d.offsets.start, d.offsets.end),
      })),
    });
  }
}
process.stdout.write(JSON.stringify({ linterVersion, results }));
