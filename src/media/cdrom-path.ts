/**
 * Pure rules for a `cdrom` value before any file is looked at: what it names inside ISO_DIR, and
 * whether a resolved path stays inside it. FsIsoLibrary applies them around realpath and lstat.
 */
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

/** Longest `cdrom` the API takes (Linux PATH_MAX). */
export const CDROM_MAX_LENGTH = 4096;

/** `cdrom` relative to ISO_DIR, or a sentence saying why it cannot name a file there. */
export type CdromRequest = { readonly ok: true; readonly relativePath: string } | { readonly ok: false; readonly problem: string };

/** Whether `path` is `dir` itself or below it (both absolute and normalized). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Checks a `cdrom` value lexically: no "..", no NUL, an absolute path only inside isoDir. Nothing
 * outside ISO_DIR is ever looked at, so the answer tells nothing about the host's other files.
 */
export function parseCdromRequest(cdrom: string, isoDir: string): CdromRequest {
  if (cdrom.length === 0 || cdrom.length > CDROM_MAX_LENGTH || cdrom.includes('\0')) {
    return { ok: false, problem: `cdrom must be the name of a file in ISO_DIR (1 to ${CDROM_MAX_LENGTH} characters, no NUL)` };
  }
  if (cdrom.split(/[/\\]/).includes('..')) {
    return { ok: false, problem: 'cdrom must not contain ".." path segments: name a file inside ISO_DIR' };
  }
  if (isAbsolute(cdrom)) {
    const absolute = normalize(cdrom);
    if (!isInside(isoDir, absolute)) {
      return { ok: false, problem: `cdrom ${cdrom} is outside ISO_DIR (${isoDir}): name a file in that directory, e.g. "debian.iso"` };
    }
    return { ok: true, relativePath: relative(isoDir, absolute) };
  }
  const relativePath = normalize(cdrom).replace(/\/+$/, '');
  if (relativePath === '.' || relativePath === '') {
    return { ok: false, problem: 'cdrom must name a file in ISO_DIR, not the directory itself' };
  }
  return { ok: true, relativePath };
}

/**
 * The path the Docker engine binds for an ISO stored as `relativePath` (the node row's `cdrom`).
 * Rows written before ISO_DIR existed hold absolute paths: kept as they are, and attached only if
 * they pass IsoLibrary.resolve (inside ISO_DIR) when the container is created.
 */
export function isoHostPath(isoDir: string, relativePath: string): string {
  return isAbsolute(relativePath) ? normalize(relativePath) : join(isoDir, relativePath);
}
