/**
 * Validates Redfish payloads against DMTF's JSON Schema (the subset in test/fixtures/redfish-schema).
 * The schema file comes from the payload's @odata.type (#ComputerSystem.v1_27_0.ComputerSystem →
 * ComputerSystem.v1_27_0.json; collections → ComputerSystemCollection.json). Links between resources
 * are cut: a `$ref` to `X.json#/definitions/X` becomes odata-v4's idRef, which is what payloads
 * carry there (unless X is an enumeration, such as PhysicalContext); draft-04 `id` becomes `$id`; `$schema` is dropped (ajv cannot fetch the meta-schema).
 */
import Ajv, { type AnySchema, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCHEMA_DIR = join(__dirname, '..', 'fixtures', 'redfish-schema');
const BASE = 'http://redfish.dmtf.org/schemas/v1/';
const ID_REF = `${BASE}odata-v4.json#/definitions/idRef`;
/** Referenced schemas not in the subset: any value is accepted there. */
const STUBBED = /^(Message\.json|swordfish\/)/;

function rewrite(node: unknown, fileBase: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, fileBase));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === '$schema') continue;
    if (k === '$ref' && typeof v === 'string') {
      const m = /^http:\/\/redfish\.dmtf\.org\/schemas\/(?:v1\/)?([^#]+?)\.json(?:#\/definitions\/(.*))?$/.exec(v);
      if (m && STUBBED.test(`${m[1]}.json`)) return {};
      if (m && m[1] === m[2] && !isEnumSchema(m[1]!)) { out.$ref = ID_REF; continue; }
    }
    out[k] = rewrite(v, fileBase);
  }
  return out;
}

/** X.json whose definition X is an enumeration (e.g. PhysicalContext): a value, not a link. */
function isEnumSchema(name: string): boolean {
  const path = join(SCHEMA_DIR, `${name}.json`);
  if (!existsSync(path)) return false;
  const defs = (JSON.parse(readFileSync(path, 'utf8')) as { definitions?: Record<string, { enum?: unknown }> }).definitions;
  return Array.isArray(defs?.[name]?.enum);
}

function loadFile(file: string): Record<string, unknown> {
  const path = join(SCHEMA_DIR, file);
  if (!existsSync(path)) throw new Error(`schema ${file} is not in ${SCHEMA_DIR}: copy it (and what it references) from DMTF's Redfish-Publications`);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const base = file.replace(/\.json$/, '');
  const defs = doc.definitions as Record<string, unknown> | undefined;
  // An unversioned X.json's definition X only lists every version: a link everywhere it is used.
  if (defs && !base.includes('.v') && !base.endsWith('Collection') && defs[base] && !Array.isArray((defs[base] as { enum?: unknown }).enum)) defs[base] = { $ref: ID_REF };
  const out = rewrite(doc, base) as Record<string, unknown>;
  if (typeof out.id === 'string') { out.$id = out.id; delete out.id; }
  if (typeof out.$id !== 'string') out.$id = `${BASE}${file}`;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, loadSchema: async (uri) => loadFile(uri.replace(BASE, '').replace(/#.*$/, '')) as AnySchema });
addFormats(ajv);
const compiled = new Map<string, Promise<ValidateFunction>>();

/** The schema file a payload's @odata.type names. */
export function schemaFileOf(odataType: string): string {
  const m = /^#([A-Za-z]+)\.(v\d+_\d+_\d+)\.\1$/.exec(odataType);
  if (m) return `${m[1]}.${m[2]}.json`;
  const c = /^#([A-Za-z]+Collection)\.\1$/.exec(odataType);
  if (c) return `${c[1]}.json`;
  throw new Error(`@odata.type ${odataType} names no schema file`);
}

function validatorFor(file: string): Promise<ValidateFunction> {
  let v = compiled.get(file);
  if (!v) {
    const type = file.startsWith('redfish-error') ? 'RedfishError' : file.split('.')[0]!;
    // Validate against the definition named after the type.
    v = ajv.compileAsync({ $ref: `${BASE}${file}#/definitions/${type}` });
    compiled.set(file, v);
  }
  return v;
}

/** Problems with a payload ([] when it is valid). Error bodies are checked against redfish-error. */
export async function redfishSchemaErrors(body: unknown): Promise<string[]> {
  if (body === null || typeof body !== 'object') return ['not a JSON object'];
  const b = body as Record<string, unknown>;
  let file: string;
  if ('error' in b) file = 'redfish-error.v1_0_2.json';
  else if (typeof b['@odata.type'] === 'string') file = schemaFileOf(b['@odata.type']);
  else return ['no @odata.type'];
  const validate = await validatorFor(file);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${file}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** For jest: throws with every problem listed. */
export async function expectRedfishValid(body: unknown): Promise<void> {
  const errors = await redfishSchemaErrors(body);
  if (errors.length > 0) throw new Error(`payload does not match DMTF schema:\n  ${errors.join('\n  ')}\n${JSON.stringify(body, null, 1).slice(0, 4000)}`);
}
