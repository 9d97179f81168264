/**
 * The committed compiled schema has the shape the validator relies on and what OCSF 1.1.0 says of
 * the two classes (https://schema.ocsf.io/1.1.0/classes/api_activity,
 * https://schema.ocsf.io/1.1.0/classes/entity_management). The raw schema is not in the repository,
 * so this checks the result, not the compilation; scripts/ocsf-schema.ts writes it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CompiledAttribute, OCSF_SCHEMA_1_1_0 as schema } from '../../../lambdas/core/ocsf';

const requiredOf = (attributes: Record<string, CompiledAttribute>, profiles: string[] = []): string[] =>
  Object.entries(attributes)
    .filter(([, a]) => a.requirement === 'required' && (!a.profile || profiles.includes(a.profile)))
    .map(([name]) => name)
    .sort();

describe('the compiled OCSF 1.1.0 schema', () => {
  it('says where it comes from, with the schema’s license beside it', () => {
    expect(schema.version).toBe('1.1.0');
    expect(schema.source).toBe('https://github.com/ocsf/ocsf-schema/tree/v1.1.0');
    const dir = new URL('../../../lambdas/core/ocsf/', import.meta.url);
    expect(readFileSync(new URL('SCHEMA-LICENSE', dir), 'utf8')).toContain('Apache License');
    expect(readFileSync(new URL('SCHEMA-NOTICE', dir), 'utf8')).toContain(
      'Open Cybersecurity Schema Framework',
    );
  });

  it('has API Activity 6003 in Application Activity with its required attributes', () => {
    const api = schema.classes.api_activity!;
    expect(api).toMatchObject({ uid: 6003, caption: 'API Activity', category: { uid: 6 } });
    expect(requiredOf(api.attributes)).toEqual([
      'activity_id',
      'actor',
      'api',
      'category_uid',
      'class_uid',
      'metadata',
      'severity_id',
      'src_endpoint',
      'time',
      'type_uid',
    ]);
    // The cloud profile makes `cloud` required; API Activity makes `api` its own (no profile).
    expect(requiredOf(api.attributes, ['cloud'])).toContain('cloud');
    expect(api.attributes.api).toEqual({ object: 'api', requirement: 'required' });
    expect(api.attributes.activity_id!.enum).toEqual({
      0: 'Unknown',
      1: 'Create',
      2: 'Read',
      3: 'Update',
      4: 'Delete',
      99: 'Other',
    });
    expect(api.attributes.src_endpoint).toEqual({ object: 'network_endpoint', requirement: 'required' });
    expect(api.attributes.resources).toEqual({
      object: 'resource_details',
      array: true,
      requirement: 'recommended',
    });
  });

  it('has Entity Management 3004 in IAM, its actor from the Host profile', () => {
    const entity = schema.classes.entity_management!;
    expect(entity).toMatchObject({ uid: 3004, caption: 'Entity Management', category: { uid: 3 } });
    expect(requiredOf(entity.attributes)).toEqual([
      'activity_id',
      'category_uid',
      'class_uid',
      'entity',
      'metadata',
      'severity_id',
      'time',
      'type_uid',
    ]);
    expect(entity.attributes.actor).toEqual({ object: 'actor', profile: 'host' });
    expect(entity.attributes.entity).toEqual({ object: 'managed_entity', requirement: 'required' });
    expect(entity.profiles).toEqual(['cloud', 'datetime', 'host']);
  });

  it('derives class, category and type enums with their siblings', () => {
    const attributes = schema.classes.api_activity!.attributes;
    expect(attributes.class_uid).toMatchObject({ enum: { 6003: 'API Activity' }, sibling: 'class_name' });
    expect(attributes.category_uid).toMatchObject({
      enum: { 6: 'Application Activity' },
      sibling: 'category_name',
    });
    expect(attributes.type_uid).toMatchObject({ type: 'long_t', sibling: 'type_name' });
    expect(attributes.type_uid!.enum!['600301']).toBe('API Activity: Create');
    expect(attributes.status_id).toMatchObject({ sibling: 'status', enum: { 1: 'Success', 2: 'Failure' } });
    expect(attributes.severity_id).toMatchObject({ sibling: 'severity', requirement: 'required' });
  });

  it('resolves objects: inheritance, overrides, constraints, profiles, observables', () => {
    const { objects } = schema;
    // user extends _entity: its own constraint and its own type for name.
    expect(objects.user!.constraints).toEqual({ at_least_one: ['account', 'name', 'uid'] });
    expect(objects.user!.attributes.name).toEqual({ type: 'username_t', requirement: 'recommended' });
    // network_endpoint extends endpoint, which includes the container profile.
    expect(objects.network_endpoint!.attributes.svc_name).toEqual({
      type: 'string_t',
      requirement: 'recommended',
    });
    expect(objects.network_endpoint!.attributes.container).toMatchObject({ profile: 'container' });
    expect(objects.network_endpoint!.attributes.ip).toEqual({ type: 'ip_t', requirement: 'recommended' });
    // resource_details extends _resource extends _entity: the constraint inherited.
    expect(objects.resource_details!.constraints).toEqual({ at_least_one: ['name', 'uid'] });
    expect(objects.resource_details!.attributes.region).toEqual({ type: 'string_t', profile: 'cloud' });
    expect(objects.request!.attributes.uid).toEqual({ type: 'string_t', requirement: 'required' });
    expect(objects.metadata!.attributes.logged_time_dt).toEqual({ type: 'datetime_t', profile: 'datetime' });
    expect(objects.object!.attributes).toEqual({});
    expect(objects.observable!.attributes.type_id!.enum).toMatchObject({
      2: 'IP Address',
      20: 'Endpoint',
      21: 'User',
    });
  });

  it('is closed: every object and data type an attribute names is in it, and every pattern compiles', () => {
    const dangling: string[] = [];
    const items = [...Object.entries(schema.classes), ...Object.entries(schema.objects)];
    for (const [name, item] of items)
      for (const [attribute, a] of Object.entries(item.attributes)) {
        if (a.object !== undefined && !schema.objects[a.object])
          dangling.push(`${name}.${attribute} → ${a.object}`);
        if (a.type !== undefined && !schema.types[a.type]) dangling.push(`${name}.${attribute} → ${a.type}`);
        if ((a.object === undefined) === (a.type === undefined))
          dangling.push(`${name}.${attribute}: type or object`);
      }
    expect(dangling).toEqual([]);
    const primitives = ['boolean_t', 'float_t', 'integer_t', 'json_t', 'long_t', 'string_t'];
    for (const [name, type] of Object.entries(schema.types)) {
      let base = name;
      while (schema.types[base]!.type) base = schema.types[base]!.type!;
      expect(primitives, name).toContain(base);
      if (type.regex) expect(() => new RegExp(type.regex!)).not.toThrow();
    }
    expect(schema.types.timestamp_t).toEqual({ type: 'long_t' });
    expect(schema.types.port_t).toMatchObject({ type: 'integer_t', range: [0, 65535] });
    expect(schema.profiles).toEqual([
      'cloud',
      'container',
      'datetime',
      'host',
      'load_balancer',
      'network_proxy',
      'security_control',
    ]);
  });
});
