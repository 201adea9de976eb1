import { firstRegularFile, TarFormatError } from './tar-single-file';

/** A ustar header block for one entry. */
function header(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 'latin1');
  block.write('0000644\0', 100, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\0' + '00', 257, 'latin1');
  return block;
}

function entry(name: string, content: Buffer, type = '0'): Buffer {
  const padded = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(padded);
  return Buffer.concat([header(name, content.length, type), padded]);
}

const END = Buffer.alloc(1024);

describe('firstRegularFile', () => {
  it('returns the content of the one file of an archive', () => {
    const pem = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(firstRegularFile(Buffer.concat([entry('redfish-cert.pem', pem), END]))).toEqual(pem);
  });

  it('skips a pax extended header before the file and reads a file of exactly one block', () => {
    const content = Buffer.alloc(512, 0x41);
    const archive = Buffer.concat([entry('PaxHeader', Buffer.from('30 path=a-very-long-name.pem\n'), 'x'), entry('a', content), END]);
    expect(firstRegularFile(archive)).toEqual(content);
  });

  it('answers null for an empty archive or a directory', () => {
    expect(firstRegularFile(END)).toBeNull();
    expect(firstRegularFile(Buffer.concat([entry('bmc/', Buffer.alloc(0), '5'), END]))).toBeNull();
  });

  it('refuses a size field that is not octal and an entry that runs past the end', () => {
    const bad = header('a', 1, '0');
    bad.write('zzzzzzzzzzz\0', 124, 'latin1');
    expect(() => firstRegularFile(Buffer.concat([bad, END]))).toThrow(TarFormatError);
    expect(() => firstRegularFile(header('a', 4096, '0'))).toThrow(/runs past the end/);
  });
});
