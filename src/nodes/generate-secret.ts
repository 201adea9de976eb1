/**
 * Random secrets the orchestrator makes for a node: a BMC password (shown once, by the create) and a
 * VNC password (read through GET /api/v1/nodes/:name/vnc). Letters and digits without look-alikes, so
 * they survive being read aloud or copied from a terminal.
 */
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** 16 characters fit IPMI's 20-byte password limit. */
export const GENERATED_IPMI_PASSWORD_LENGTH = 16;
/** VNC authentication (RFC 6143 section 7.2.2) uses the first 8 bytes of the password only. */
export const VNC_PASSWORD_LENGTH = 8;

export function generateSecret(length: number): string {
  // randomInt: uniform over the alphabet (no modulo bias).
  return Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}
