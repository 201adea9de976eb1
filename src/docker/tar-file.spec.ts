import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstFileInTar } from './tar-file';

describe('firstFileInTar', () => {
  it('reads the file of a tar made by GNU tar, in ustar and in pax format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-file-'));
    const content = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'.repeat(20));
    writeFileSync(join(dir, 'redfish-cert.pem'), content);
    for (const format of ['ustar', 'pax']) {
      const tar = execFileSync('tar', ['--format', format, '-C', dir, '-cf', '-', 'redfish-cert.pem']);
      expect(firstFileInTar(tar)).toEqual(content);
    }
  });

  it('gives null for an empty archive, a truncated one and a directory only', () => {
    expect(firstFileInTar(Buffer.alloc(1024))).toBeNull();
    const header = Buffer.alloc(512);
    header.write('00000001000\0', 124, 'latin1');
    header.write('0', 156, 'latin1');
    expect(firstFileInTar(Buffer.concat([header, Buffer.alloc(10)]))).toBeNull();
    const dirHeader = Buffer.alloc(512);
    dirHeader.write('00000000000\0', 124, 'latin1');
    dirHeader.write('5', 156, 'latin1');
    expect(firstFileInTar(Buffer.concat([dirHeader, Buffer.alloc(1024)]))).toBeNull();
  });
});
