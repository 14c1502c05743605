// The resource framework through its RPC layer: schema, planning rules, replacement, upgrade, private
// state, diagnostics, stop. Requests are built as Terraform sends them (msgpack DynamicValues).
import { describe, expect, it } from 'vitest';
import { BigNumber, Unknown, decodeMsgpack, encodeMsgpack, t } from '../../provider/cty/index.js';
import type { ObjectValue, Value } from '../../provider/cty/index.js';
import { defineDataSource, defineResource } from '../../provider/framework/definitions.js';
import type { ProviderDefinition } from '../../provider/framework/definitions.js';
import { locatablePath, path, schemaPath } from '../../provider/framework/diagnostics.js';
import { ProviderRpc, encodePrivate, parsePrivate } from '../../provider/framework/rpc.js';
import { attr, schemaType } from '../../provider/framework/schema.js';
import type { SchemaSpec } from '../../provider/framework/schema.js';

interface Client {
  calls: string[];
}

const widgetSchema: SchemaSpec = {
  version: 2,
  attributes: {
    name: attr.string({ required: true, requiresReplace: true }),
    size: attr.number({ optional: true, computed: true, default: 10 }),
    label: attr.string({ optional: true }),
    secret: attr.string({ optional: true, sensitive: true, writeOnly: true }),
    id: attr.string({ computed: true }),
    revision: attr.number({ computed: true, stableOnUpdate: false }),
    settings: attr.nested(
      'single',
      { zone: attr.string({ required: true, requiresReplace: true }), mode: attr.string({ optional: true, computed: true }) },
      { optional: true },
    ),
    rules: attr.nested('list', { port: attr.number({ required: true }), note: attr.string({ computed: true }) }, { optional: true }),
  },
};
const widgetType = schemaType(widgetSchema);

const dv = (value: Value) => ({ msgpack: encodeMsgpack(widgetType, value) });
const read = (msg: { msgpack?: Uint8Array } | undefined) => decodeMsgpack(widgetType, msg!.msgpack!) as ObjectValue | null;
const obj = (o: Partial<Record<string, Value>>): ObjectValue => ({
  name: null,
  size: null,
  label: null,
  secret: null,
  id: null,
  revision: null,
  settings: null,
  rules: null,
  ...o,
}) as ObjectValue;

function makeProvider(overrides: Partial<Parameters<typeof defineResource<Client>>[0]> = {}) {
  const client: Client = { calls: [] };
  const resource = defineResource<Client>({
    typeName: 'test_widget',
    schema: widgetSchema,
    upgrades: {
      0: (s) => ({ ...s, size: s.capacity ?? null, capacity: null }),
      1: (s) => {
        const { capacity: _dropped, ...rest } = s;
        return { ...rest, label: typeof rest.label === 'string' ? rest.label.toUpperCase() : null };
      },
    },
    validate({ config, diagnostics }) {
      if (typeof config.size === 'number' && config.size < 0) diagnostics.error('Invalid size', 'must not be negative', path('size'));
      const rules = config.rules;
      if (Array.isArray(rules))
        rules.forEach((r, i) => {
          const port = (r as ObjectValue).port;
          if (typeof port === 'number' && port > 65535) diagnostics.error('Invalid port', 'must be at most 65535', path('rules', i, 'port'));
        });
    },
    async create(ctx) {
      ctx.client.calls.push(`create ${ctx.planned.name} secret=${ctx.config.secret}`);
      ctx.private.created = true;
      return { ...ctx.planned, id: 'w-1', revision: 1, rules: Array.isArray(ctx.planned.rules) ? ctx.planned.rules.map((r) => ({ ...(r as ObjectValue), note: 'ok' })) : null };
    },
    async update(ctx) {
      ctx.client.calls.push(`update ${ctx.planned.name}`);
      return { ...ctx.planned, revision: ((ctx.prior!.revision as number) ?? 0) + 1 };
    },
    async read(ctx) {
      ctx.private.reads = ((ctx.private.reads as number) ?? 0) + 1;
      return ctx.state.name === 'gone' ? null : ctx.state;
    },
    async delete(ctx) {
      ctx.client.calls.push(`delete ${ctx.prior!.name}`);
    },
    ...overrides,
  });
  const def: ProviderDefinition<Client> = {
    schema: { attributes: { endpoint: attr.string({ optional: true }) } },
    configure: () => client,
    resources: [resource],
    dataSources: [
      defineDataSource<Client>({
        typeName: 'test_lookup',
        schema: { attributes: { key: attr.string({ required: true }), value: attr.string({ computed: true }) } },
        read: async ({ config }) => ({ key: config.key, value: `value-of-${config.key}` }),
      }),
    ],
  };
  const rpc = new ProviderRpc(def);
  return { rpc, client };
}

async function configured(overrides?: Parameters<typeof makeProvider>[0]) {
  const p = makeProvider(overrides);
  const providerType = t.object({ endpoint: t.string });
  await p.rpc.ConfigureProvider({ config: { msgpack: encodeMsgpack(providerType, { endpoint: 'x' }) }, terraform_version: '1.11.4' });
  return p;
}

describe('schema', () => {
  it('declares types, nesting, flags and capabilities', () => {
    const { rpc } = makeProvider();
    const res = rpc.GetProviderSchema() as Record<string, any>;
    expect(res.server_capabilities).toEqual({ plan_destroy: true, get_provider_schema_optional: true, move_resource_state: false });
    const widget = res.resource_schemas.test_widget;
    expect(widget.version).toBe(2);
    const attrs = Object.fromEntries(widget.block.attributes.map((a: any) => [a.name, a]));
    expect(Buffer.from(attrs.name.type).toString()).toBe('"string"');
    expect(attrs.name.required).toBe(true);
    expect(attrs.secret).toMatchObject({ sensitive: true, write_only: true, optional: true });
    expect(attrs.settings.nested_type.nesting).toBe('SINGLE');
    expect(attrs.rules.nested_type.nesting).toBe('LIST');
    expect(attrs.rules.nested_type.attributes.map((a: any) => a.name)).toEqual(['port', 'note']);
    expect(attrs.settings.type).toBeUndefined();
    expect(Object.keys(res.data_source_schemas)).toEqual(['test_lookup']);
  });

  it('refuses declarations Terraform would reject', () => {
    const bad = (schema: SchemaSpec) => () =>
      new ProviderRpc({ schema: { attributes: {} }, configure: () => null, resources: [defineResource({ typeName: 'x_y', schema, create: async () => ({}), read: async () => null, delete: async () => {} })], dataSources: [] });
    expect(bad({ attributes: { a: attr.string({}) } })).toThrow(/set required, optional or computed/);
    expect(bad({ attributes: { a: attr.string({ required: true, computed: true }) } })).toThrow(/required excludes/);
    expect(bad({ attributes: { a: attr.string({ optional: true, default: 'x' }) } })).toThrow(/default needs optional and computed/);
    expect(bad({ attributes: { Bad: attr.string({ optional: true }) } })).toThrow(/lower_snake_case/);
  });
});

describe('planning', () => {
  it('create: computed unknown, defaults filled, write-only null', async () => {
    const { rpc } = await configured();
    const config = obj({ name: 'a', secret: 's3cret', rules: [{ port: 80, note: null }] });
    const res = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: dv(null), proposed_new_state: dv(config), config: dv(config) })) as any;
    expect(res.diagnostics).toEqual([]);
    const planned = read(res.planned_state)!;
    expect(planned.id).toBeInstanceOf(Unknown);
    expect(planned.revision).toBeInstanceOf(Unknown);
    expect(planned.size).toBe(10);
    expect(planned.secret).toBe(null);
    expect((planned.rules as ObjectValue[])[0].note).toBeInstanceOf(Unknown);
    expect(res.requires_replace).toEqual([]);
  });

  it('update: keeps prior computed values, recomputes the ones that change with every update', async () => {
    const { rpc } = await configured();
    const prior = obj({ name: 'a', size: 10, id: 'w-1', revision: 3, label: 'x' });
    const config = obj({ name: 'a', label: 'y' });
    const proposed = { ...config, size: 10, id: 'w-1', revision: 3 };
    const res = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: dv(prior), proposed_new_state: dv(proposed), config: dv(config) })) as any;
    const planned = read(res.planned_state)!;
    expect(planned.id).toBe('w-1');
    expect(planned.label).toBe('y');
    expect(planned.revision).toBeInstanceOf(Unknown);
    // no change: nothing becomes unknown
    const same = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: dv(prior), proposed_new_state: dv(prior), config: dv(obj({ name: 'a', label: 'x' })) })) as any;
    expect(read(same.planned_state)).toEqual(prior);
  });

  it('requires_replace for changed replace attributes, nested ones at their path', async () => {
    const { rpc } = await configured();
    const prior = obj({ name: 'a', size: 10, id: 'w-1', revision: 1, settings: { zone: 'z1', mode: 'm' } });
    const config = obj({ name: 'b', settings: { zone: 'z2', mode: null } });
    const proposed = { ...config, size: 10, id: 'w-1', revision: 1, settings: { zone: 'z2', mode: 'm' } };
    const res = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: dv(prior), proposed_new_state: dv(proposed), config: dv(config) })) as any;
    expect(res.requires_replace).toEqual([{ steps: [{ attribute_name: 'name' }] }, { steps: [{ attribute_name: 'settings' }, { attribute_name: 'zone' }] }]);
    // nested computed kept from prior
    expect((read(res.planned_state)!.settings as ObjectValue).mode).toBe('m');
  });

  it('an unknown replace attribute forces replacement', async () => {
    const { rpc } = await configured();
    const prior = obj({ name: 'a', size: 10, id: 'w-1', revision: 1 });
    const config = obj({ name: new Unknown({ notNull: true, stringPrefix: 'a-' }) });
    const proposed = { ...config, size: 10, id: 'w-1', revision: 1 };
    const res = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: dv(prior), proposed_new_state: dv(proposed), config: dv(config) })) as any;
    expect(res.requires_replace).toEqual([{ steps: [{ attribute_name: 'name' }] }]);
    // the refinement is kept in the plan
    expect((read(res.planned_state)!.name as Unknown).refinements).toEqual({ notNull: true, stringPrefix: 'a-' });
  });

  it('destroy plan is null and keeps private state', async () => {
    const { rpc } = await configured();
    const priv = encodePrivate({ k: 1 });
    const res = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: dv(obj({ name: 'a' })), proposed_new_state: dv(null), config: dv(null), prior_private: priv })) as any;
    expect(read(res.planned_state)).toBe(null);
    expect(parsePrivate(res.planned_private)).toEqual({ k: 1 });
  });

  it('without an update handler every change replaces', async () => {
    const { rpc } = await configured({ update: undefined });
    const prior = obj({ name: 'a', size: 10, id: 'w-1', revision: 1, label: 'x' });
    const config = obj({ name: 'a', label: 'y' });
    const res = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: dv(prior), proposed_new_state: dv({ ...config, size: 10, id: 'w-1', revision: 1 }), config: dv(config) })) as any;
    expect(res.requires_replace).toEqual([{ steps: [{ attribute_name: 'label' }] }]);
  });
});

describe('apply, read, import', () => {
  it('create hands write-only values from config and stores them as null; private state round-trips', async () => {
    const { rpc, client } = await configured();
    const config = obj({ name: 'a', secret: 's3cret', rules: [{ port: 80, note: null }] });
    const planned = obj({ name: 'a', size: 10, id: new Unknown(), revision: new Unknown(), rules: [{ port: 80, note: new Unknown() }] });
    const res = (await rpc.ApplyResourceChange({ type_name: 'test_widget', prior_state: dv(null), planned_state: dv(planned), config: dv(config) })) as any;
    expect(res.diagnostics).toEqual([]);
    expect(client.calls).toEqual(['create a secret=s3cret']);
    const state = read(res.new_state)!;
    expect(state).toMatchObject({ id: 'w-1', revision: 1, secret: null, rules: [{ port: 80, note: 'ok' }] });
    expect(parsePrivate(res.private)).toEqual({ created: true });
    // Read receives and returns it, adding its own
    const r = (await rpc.ReadResource({ type_name: 'test_widget', current_state: res.new_state, private: res.private })) as any;
    expect(parsePrivate(r.private)).toEqual({ created: true, reads: 1 });
    // Plan passes it on
    const p = (await rpc.PlanResourceChange({ type_name: 'test_widget', prior_state: r.new_state, proposed_new_state: r.new_state, config: dv(config), prior_private: r.private })) as any;
    expect(parsePrivate(p.planned_private)).toEqual({ created: true, reads: 1 });
  });

  it('read of a vanished object returns null (Terraform plans to create it again)', async () => {
    const { rpc } = await configured();
    const r = (await rpc.ReadResource({ type_name: 'test_widget', current_state: dv(obj({ name: 'gone' })) })) as any;
    expect(read(r.new_state)).toBe(null);
  });

  it('a failed update keeps the prior state; a failed create records nothing', async () => {
    const { rpc } = await configured({
      update: async () => {
        throw new Error('daemon said no');
      },
      create: async () => {
        throw new Error('cannot create');
      },
    });
    const prior = obj({ name: 'a', size: 10, id: 'w-1', revision: 1 });
    const res = (await rpc.ApplyResourceChange({ type_name: 'test_widget', prior_state: dv(prior), planned_state: dv({ ...prior, label: 'z' }), config: dv(obj({ name: 'a', label: 'z' })) })) as any;
    expect(read(res.new_state)).toEqual(prior);
    expect(res.diagnostics).toEqual([{ severity: 'ERROR', summary: 'Apply failed', detail: 'daemon said no' }]);
    const created = (await rpc.ApplyResourceChange({ type_name: 'test_widget', prior_state: dv(null), planned_state: dv(prior), config: dv(obj({ name: 'a' })) })) as any;
    expect(read(created.new_state)).toBe(null);
    expect(created.diagnostics[0].detail).toBe('cannot create');
  });

  it('delete calls the handler and returns null', async () => {
    const { rpc, client } = await configured();
    const res = (await rpc.ApplyResourceChange({ type_name: 'test_widget', prior_state: dv(obj({ name: 'a' })), planned_state: dv(null), config: dv(null) })) as any;
    expect(read(res.new_state)).toBe(null);
    expect(client.calls).toEqual(['delete a']);
  });

  it('import sets the import attribute from the ID', async () => {
    const { rpc } = await configured();
    const res = (await rpc.ImportResourceState({ type_name: 'test_widget', id: 'nightly' })) as any;
    expect(res.imported_resources).toHaveLength(1);
    expect(read(res.imported_resources[0].state)).toEqual(obj({ name: 'nightly' }));
  });

  it('reads data sources', async () => {
    const { rpc } = await configured();
    const type = t.object({ key: t.string, value: t.string });
    const res = (await rpc.ReadDataSource({ type_name: 'test_lookup', config: { msgpack: encodeMsgpack(type, { key: 'k', value: null }) } })) as any;
    expect(decodeMsgpack(type, res.state.msgpack)).toEqual({ key: 'k', value: 'value-of-k' });
  });
});

describe('state upgrades', () => {
  it('runs each step from the stored version, drops removed attributes, keeps big numbers exact', async () => {
    const { rpc } = await configured();
    const raw = '{"name":"a","capacity":12345678901234567890,"label":"x","id":"w-1","obsolete":true}';
    const res = (await rpc.UpgradeResourceState({ type_name: 'test_widget', version: 0, raw_state: { json: Buffer.from(raw) } })) as any;
    expect(res.diagnostics).toEqual([]);
    const state = read(res.upgraded_state)!;
    expect((state.size as BigNumber).text).toBe('12345678901234567890');
    expect(state.label).toBe('X');
    expect(state.id).toBe('w-1');
    expect('obsolete' in state).toBe(false);
  });

  it('the current version passes through unchanged', async () => {
    const { rpc } = await configured();
    const raw = '{"name":"a","size":3,"label":"x"}';
    const res = (await rpc.UpgradeResourceState({ type_name: 'test_widget', version: 2, raw_state: { json: Buffer.from(raw) } })) as any;
    expect(read(res.upgraded_state)).toEqual(obj({ name: 'a', size: 3, label: 'x' }));
  });

  it('state from a newer provider or in flatmap form is an error diagnostic', async () => {
    const { rpc } = await configured();
    const newer = (await rpc.UpgradeResourceState({ type_name: 'test_widget', version: 3, raw_state: { json: Buffer.from('{}') } })) as any;
    expect(newer.diagnostics[0].summary).toBe('State written by a newer provider');
    const flat = (await rpc.UpgradeResourceState({ type_name: 'test_widget', version: 0, raw_state: { json: Buffer.alloc(0), flatmap: { name: 'a' } } })) as any;
    expect(flat.diagnostics[0].summary).toBe('Unsupported state format');
  });
});

describe('diagnostics', () => {
  it('validation errors carry attribute paths into lists', async () => {
    const { rpc } = makeProvider();
    const config = obj({ name: 'a', size: -1, rules: [{ port: 1, note: null }, { port: 70000, note: null }] });
    const res = (await rpc.ValidateResourceConfig({ type_name: 'test_widget', config: dv(config) })) as any;
    expect(res.diagnostics).toEqual([
      { severity: 'ERROR', summary: 'Invalid size', detail: 'must not be negative', attribute: { steps: [{ attribute_name: 'size' }] } },
      {
        severity: 'ERROR',
        summary: 'Invalid port',
        detail: 'must be at most 65535',
        // cut to what Terraform can locate: the list element of the nested attribute
        attribute: { steps: [{ attribute_name: 'rules' }, { element_key_int: 1 }] },
      },
    ]);
  });

  it('locatablePath follows blocks, then stops after one attribute and one index', () => {
    const schema: SchemaSpec = {
      attributes: { top: attr.nested('single', { inner: attr.string({ optional: true }) }, { optional: true }) },
      blocks: { rule: { nesting: 'list', attributes: { opts: attr.map(t.string, { optional: true }) } } },
    };
    expect(locatablePath(schema, path('top', 'inner'))).toEqual(path('top'));
    expect(locatablePath(schema, path('rule', 2, 'opts', { key: 'k' }))).toEqual(path('rule', 2, 'opts', { key: 'k' }));
    expect(locatablePath(schema, path('rule', 0, 'opts'))).toEqual(path('rule', 0, 'opts'));
  });

  it('schemaPath tells attributes from list indexes and map keys', () => {
    const schema: SchemaSpec = {
      attributes: {
        schedule: attr.nested('single', { days: attr.nested('list', { day: attr.number({ required: true }) }, { required: true }) }, { optional: true }),
        labels: attr.map(t.string, { optional: true }),
      },
    };
    expect(schemaPath(schema, 'schedule.days[2].day')).toEqual([{ attr: 'schedule' }, { attr: 'days' }, { index: 2 }, { attr: 'day' }]);
    expect(schemaPath(schema, ['labels', 'team'])).toEqual([{ attr: 'labels' }, { key: 'team' }]);
  });

  it('an unknown resource type is a diagnostic, not a crash', async () => {
    const { rpc } = makeProvider();
    const res = (await rpc.ValidateResourceConfig({ type_name: 'test_nothing', config: dv(null) })) as any;
    expect(res.diagnostics[0].summary).toBe('Unknown resource type');
  });
});

describe('stop', () => {
  it('StopProvider cancels an in-flight apply through its AbortSignal', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const { rpc } = await configured({
      create: (ctx) =>
        new Promise((_resolve, reject) => {
          started();
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
    });
    const applying = rpc.ApplyResourceChange({ type_name: 'test_widget', prior_state: dv(null), planned_state: dv(obj({ name: 'a' })), config: dv(obj({ name: 'a' })) });
    await running;
    rpc.StopProvider();
    const res = (await applying) as any;
    expect(res.diagnostics[0].summary).toBe('Operation cancelled');
    expect(read(res.new_state)).toBe(null);
  });
});
