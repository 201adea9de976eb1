import { isInside, isoHostPath, parseCdromRequest } from './cdrom-path';

const ISO_DIR = '/srv/iso';

describe('parseCdromRequest', () => {
  it.each([
    ['debian.iso', 'debian.iso'],
    ['./debian.iso', 'debian.iso'],
    ['debian//netinst.iso', 'debian/netinst.iso'],
    ['debian/netinst.iso/', 'debian/netinst.iso'],
    ['/srv/iso/debian.iso', 'debian.iso'],
    ['/srv/iso/a/b.iso', 'a/b.iso'],
    ['..hidden.iso', '..hidden.iso'],
  ])('%j names %j inside ISO_DIR', (cdrom, relativePath) => {
    expect(parseCdromRequest(cdrom, ISO_DIR)).toEqual({ ok: true, relativePath });
  });

  it.each([
    ['/etc/shadow', /^cdrom \/etc\/shadow is outside ISO_DIR \(\/srv\/iso\)/],
    ['/var/run/docker.sock', /is outside ISO_DIR/],
    ['/srv/isox/a.iso', /is outside ISO_DIR/],
    ['/srv/iso', /is outside ISO_DIR/],
    ['../etc/shadow', /must not contain "\.\." path segments/],
    ['a/../../etc/shadow', /must not contain "\.\." path segments/],
    ['/srv/iso/../../etc/shadow', /must not contain "\.\." path segments/],
    ['.', /not the directory itself/],
    ['./', /not the directory itself/],
    ['', /must be the name of a file in ISO_DIR/],
    ['a\0b', /must be the name of a file in ISO_DIR/],
    ['x'.repeat(4097), /must be the name of a file in ISO_DIR/],
  ])('refuses %j without looking at any file: %s', (cdrom, problem) => {
    const result = parseCdromRequest(cdrom, ISO_DIR);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problem).toMatch(problem);
  });
});

describe('isInside and isoHostPath', () => {
  it('tells a path below a directory from the directory, its parent and its siblings', () => {
    expect(isInside('/srv/iso', '/srv/iso/a.iso')).toBe(true);
    expect(isInside('/srv/iso', '/srv/iso')).toBe(false);
    expect(isInside('/srv/iso', '/srv/isox/a.iso')).toBe(false);
    expect(isInside('/srv/iso', '/etc/shadow')).toBe(false);
    expect(isInside('/srv/iso', '/srv/iso/..foo')).toBe(true);
  });

  it('binds the file from ISO_DIR as configured', () => {
    expect(isoHostPath('/srv/iso', 'debian/netinst.iso')).toBe('/srv/iso/debian/netinst.iso');
    // A row from before ISO_DIR: its absolute path, which IsoLibrary.resolve checks before any bind.
    expect(isoHostPath('/srv/iso', '/srv/iso/old.iso')).toBe('/srv/iso/old.iso');
  });
});
