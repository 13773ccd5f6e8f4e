/** The OpenAPI document: valid 3.1, built from the request schemas, and covering every route the app serves. */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { openApiPath } from '../../functions/openapi';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, quietCluster, testClocks } from '../support/test-app';

// With a cluster source and clock deps, so that the routes mounted only with membership (/cluster)
// or clocks (/time, /time/adjust, /events) are checked too.
const app = createTestApp({
  ledger: new MemoryLedger(),
  clock: systemClock,
  hostId: 'h-test',
  cluster: quietCluster('h-test'),
  clocks: testClocks(),
});

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string; required: boolean }[];
        requestBody?: {
          content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }>;
        };
      }
    >
  >;
}

const fetchDoc = async () => {
  const response = await app.request('/openapi.json');
  expect(response.status).toBe(200);
  return (await response.json()) as Doc;
};

describe('GET /openapi.json', () => {
  it('documents every route registered in the app', async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toBe('3.1.0');
    // Middleware is registered with method ALL; real routes have a concrete method.
    const routes = app.routes.filter((r) => r.method !== 'ALL');
    expect(routes.length).toBeGreaterThanOrEqual(8);
    const missing = routes.filter((r) => !doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()]);
    expect(missing.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('describes requests with the schemas that validate them', async () => {
    const doc = await fetchDoc();
    const body = doc.paths['/payments']!.post!.requestBody!.content['application/json']!.schema;
    expect(body.required).toEqual(expect.arrayContaining(['payer', 'payee', 'amount', 'currency']));
    expect(body.properties).toHaveProperty('metadata');
    expect(body.properties!.amount).toMatchObject({ type: 'integer', maximum: 1_000_000_000_000_000 });
    const query = doc.paths['/payments']!.get!.parameters!;
    expect(query.find((p) => p.name === 'account')).toMatchObject({ in: 'query', required: true });
    expect(query.map((p) => p.name).sort()).toEqual(['account', 'cursor', 'from', 'limit', 'to']);
    expect(doc.paths['/payments/{id}']!.get!.parameters![0]).toMatchObject({ name: 'id', in: 'path' });
  });

  it('documents the optional payer of GET /payments/{id} and its ambiguous-id answer', async () => {
    const byId = (await fetchDoc()).paths['/payments/{id}']!.get! as {
      parameters: { name: string; in: string; required: boolean }[];
      responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
    };
    expect(byId.parameters.find((p) => p.name === 'payer')).toMatchObject({ in: 'query', required: false });
    expect(JSON.stringify(byId.responses['409']?.content)).toContain('ambiguous_payment_id');
  });
});
