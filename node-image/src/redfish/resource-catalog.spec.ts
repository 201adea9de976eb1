import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGENERATE_RESOURCES_COMMAND, registeredRoutes, renderResourceReference, RESOURCE_REFERENCE_PATH } from './resource-catalog';
import { SCHEMA } from './resources/paths';

describe('Redfish resource reference', () => {
  it('lists every route with the schema it serves', () => {
    const text = renderResourceReference();
    for (const r of registeredRoutes()) expect(text).toContain(`| \`${r.path}\` | ${r.schema} |`);
    for (const versioned of Object.values(SCHEMA)) expect(text).toContain(versioned);
  });

  it(`${RESOURCE_REFERENCE_PATH} is up to date (regenerate: ${REGENERATE_RESOURCES_COMMAND})`, () => {
    const onDisk = readFileSync(join(__dirname, '..', '..', '..', RESOURCE_REFERENCE_PATH), 'utf8');
    expect(onDisk).toBe(renderResourceReference());
  });
});
