// The committed bindings in constructs/bindings/ are exactly what the generator makes from the schema
// today; a schema change without `npx tsx constructs/scripts/generate-bindings.ts` fails here.
import { describe, expect, it } from 'vitest';
import { differences, readCommitted, renderBindings, schemaInput } from '../../constructs/scripts/generate-bindings.js';

describe('constructs/bindings', () => {
  it('match a fresh generation from the provider schema', async () => {
    const input = schemaInput();
    const fresh = await renderBindings(input);
    const committed = readCommitted();
    // One class per resource and data source, plus the provider, the index and the schema itself.
    const provider = Object.values(input.schema.provider_schemas)[0]!;
    expect(fresh.size).toBe(Object.keys(provider.resource_schemas).length + Object.keys(provider.data_source_schemas).length + 3);
    expect(differences(fresh, committed)).toEqual([]);
  }, 60_000);

  it('notices a file that differs', async () => {
    const committed = readCommitted();
    const changed = new Map(committed);
    changed.set('cluster/index.ts', `${committed.get('cluster/index.ts')}// edited by hand\n`);
    changed.delete('storage/index.ts');
    expect(differences(committed, changed)).toEqual(['cluster/index.ts', 'storage/index.ts']);
  });
});
