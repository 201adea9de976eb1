/**
 * RMCP+ cipher suites as data (IPMI v2.0 section 22.15.2, table 22-20; reference section 2.3).
 * Code reads this table; it never branches on a suite number.
 */
export const AuthAlgorithm = { None: 0x00, HmacSha1: 0x01, HmacMd5: 0x02, HmacSha256: 0x03 } as const;
export const IntegrityAlgorithm = { None: 0x00, HmacSha1_96: 0x01, HmacMd5_128: 0x02, Md5_128: 0x03, HmacSha256_128: 0x04 } as const;
export const ConfidentialityAlgorithm = { None: 0x00, AesCbc128: 0x01, XRc4_128: 0x02, XRc4_40: 0x03 } as const;

export type HashName = 'sha1' | 'sha256';

export interface AuthAlgorithmInfo {
  readonly id: number;
  readonly name: string;
  readonly hash: HashName;
  /** Length of the RAKP2/RAKP3 HMAC and of SIK/K1/K2. */
  readonly hmacLength: number;
  /** Length of the RAKP4 integrity check value (truncated HMAC; follows the auth algorithm). */
  readonly rakp4IcvLength: number;
}

export interface IntegrityAlgorithmInfo {
  readonly id: number;
  readonly name: string;
  readonly hash: HashName | null;
  /** AuthCode length appended to each session packet; 0 for none. */
  readonly authCodeLength: number;
}

export interface ConfidentialityAlgorithmInfo {
  readonly id: number;
  readonly name: string;
  readonly cipher: 'aes-128-cbc' | null;
}

export const AUTH_ALGORITHMS: Readonly<Record<number, AuthAlgorithmInfo>> = {
  [AuthAlgorithm.HmacSha1]: { id: AuthAlgorithm.HmacSha1, name: 'RAKP-HMAC-SHA1', hash: 'sha1', hmacLength: 20, rakp4IcvLength: 12 },
  [AuthAlgorithm.HmacSha256]: { id: AuthAlgorithm.HmacSha256, name: 'RAKP-HMAC-SHA256', hash: 'sha256', hmacLength: 32, rakp4IcvLength: 16 },
};

export const INTEGRITY_ALGORITHMS: Readonly<Record<number, IntegrityAlgorithmInfo>> = {
  [IntegrityAlgorithm.None]: { id: IntegrityAlgorithm.None, name: 'none', hash: null, authCodeLength: 0 },
  [IntegrityAlgorithm.HmacSha1_96]: { id: IntegrityAlgorithm.HmacSha1_96, name: 'HMAC-SHA1-96', hash: 'sha1', authCodeLength: 12 },
  [IntegrityAlgorithm.HmacSha256_128]: { id: IntegrityAlgorithm.HmacSha256_128, name: 'HMAC-SHA256-128', hash: 'sha256', authCodeLength: 16 },
};

export const CONFIDENTIALITY_ALGORITHMS: Readonly<Record<number, ConfidentialityAlgorithmInfo>> = {
  [ConfidentialityAlgorithm.None]: { id: ConfidentialityAlgorithm.None, name: 'none', cipher: null },
  [ConfidentialityAlgorithm.AesCbc128]: { id: ConfidentialityAlgorithm.AesCbc128, name: 'AES-CBC-128', cipher: 'aes-128-cbc' },
};

export interface CipherSuite {
  readonly id: number;
  readonly auth: AuthAlgorithmInfo;
  readonly integrity: IntegrityAlgorithmInfo;
  readonly confidentiality: ConfidentialityAlgorithmInfo;
}

function suite(id: number, auth: number, integrity: number, conf: number): CipherSuite {
  return { id, auth: AUTH_ALGORITHMS[auth]!, integrity: INTEGRITY_ALGORITHMS[integrity]!, confidentiality: CONFIDENTIALITY_ALGORITHMS[conf]! };
}

/** Every suite this BMC can offer. Suite 0 (RAKP-none) is deliberately absent: it checks no password. */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  suite(1, AuthAlgorithm.HmacSha1, IntegrityAlgorithm.None, ConfidentialityAlgorithm.None),
  suite(2, AuthAlgorithm.HmacSha1, IntegrityAlgorithm.HmacSha1_96, ConfidentialityAlgorithm.None),
  suite(3, AuthAlgorithm.HmacSha1, IntegrityAlgorithm.HmacSha1_96, ConfidentialityAlgorithm.AesCbc128),
  suite(15, AuthAlgorithm.HmacSha256, IntegrityAlgorithm.None, ConfidentialityAlgorithm.None),
  suite(16, AuthAlgorithm.HmacSha256, IntegrityAlgorithm.HmacSha256_128, ConfidentialityAlgorithm.None),
  suite(17, AuthAlgorithm.HmacSha256, IntegrityAlgorithm.HmacSha256_128, ConfidentialityAlgorithm.AesCbc128),
];

export const SUPPORTED_SUITE_IDS: readonly number[] = CIPHER_SUITES.map((s) => s.id);
export const DEFAULT_SUITE_IDS: readonly number[] = [3, 17];

export function suiteById(id: number): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.id === id);
}

/** The enabled suite matching an algorithm triple, if any. */
export function findSuite(enabled: readonly CipherSuite[], auth: number, integrity: number, conf: number): CipherSuite | undefined {
  return enabled.find((s) => s.auth.id === auth && s.integrity.id === integrity && s.confidentiality.id === conf);
}

/** Algorithms this BMC knows at all (whether or not a suite using them is enabled). */
export const isKnownAuthAlgorithm = (a: number): boolean => a in AUTH_ALGORITHMS || a === AuthAlgorithm.None;
export const isKnownIntegrityAlgorithm = (a: number): boolean => a in INTEGRITY_ALGORITHMS;
export const isKnownConfidentialityAlgorithm = (a: number): boolean => a in CONFIDENTIALITY_ALGORITHMS;

/**
 * Parses IPMI_CIPHER_SUITES ("3,17"): every entry must be a supported suite; 0 is refused
 * with a message that says why.
 */
export function parseCipherSuiteList(text: string): CipherSuite[] {
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (ids.length === 0) throw new Error('IPMI_CIPHER_SUITES is empty: list at least one of ' + SUPPORTED_SUITE_IDS.join(', '));
  const out: CipherSuite[] = [];
  for (const raw of ids) {
    if (!/^\d+$/.test(raw)) throw new Error(`IPMI_CIPHER_SUITES: "${raw}" is not a number`);
    const id = Number(raw);
    if (id === 0) throw new Error('IPMI_CIPHER_SUITES: suite 0 (no authentication) is never offered');
    const s = suiteById(id);
    if (!s) throw new Error(`IPMI_CIPHER_SUITES: suite ${id} is not supported (supported: ${SUPPORTED_SUITE_IDS.join(', ')})`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}
