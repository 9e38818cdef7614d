// node-postgres against idsql: the calls of tests/clients, printed as JSON for test_node.py.
// Usage: node client.js '{"host": ..., "port": ..., "user": ..., "database": ...}'
'use strict';
const { Client } = require('pg');

const ERRORS = JSON.parse(process.env.IDSQL_ERRORS);
const CALLS = JSON.parse(process.env.IDSQL_CALLS);

async function main() {
  const client = new Client(JSON.parse(process.argv[2]));
  await client.connect();
  const out = {};
  try {
    out.first = (await client.query("INSERT INTO account (name) VALUES ('first') RETURNING id")).rows[0].id;
    out.update = (await client.query("UPDATE account SET name = 'second' WHERE id = $1", ['ACC-AAA0001'])).rowCount;
    await client.query('BEGIN');
    for (const name of ['b1', 'b2', 'b3']) {
      await client.query('INSERT INTO account (name) VALUES ($1)', [name]);
    }
    await client.query('COMMIT');
    out.generated = (await client.query('SELECT idsql.generate_id($1) AS id', ['ACC'])).rows[0].id;
    const bulk = (await client.query('SELECT * FROM idsql.bulk_generate_ids($1, $2) AS b (id)', ['BLK', 1000])).rows;
    out.bulk = [bulk.length, new Set(bulk.map((r) => r.id)).size, bulk[0].id, bulk[bulk.length - 1].id];
    out.noop = (await client.query('UPDATE account SET name = name')).rowCount;
    const returning = await client.query('UPDATE account SET name = name RETURNING id');
    out.noop_returning = [returning.rowCount, returning.rows.length];
    out.errors = {};
    for (const [name, statement] of Object.entries(ERRORS)) {
      try {
        await client.query(statement);
        out.errors[name] = null;
      } catch (e) {
        out.errors[name] = [e.code, e.message, e.detail ?? null, e.hint ?? null];
      }
    }
    out.calls = [];
    for (const statement of CALLS) {
      const result = await client.query({ text: statement, rowMode: 'array' });
      out.calls.push(result.rows[0][0]);
    }
  } finally {
    await client.end();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
