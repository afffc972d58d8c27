/**
 * strongSwan IKE/ESP proposals (`aes256gcm16-prfsha384-ecp384`) checked against
 * BSI TR-02102-3: AES in GCM/CCM (ICV 12 or 16 bytes), CBC or CTR; SHA-2 or AES-XCBC/CMAC
 * integrity and PRF; DH groups of at least 3000 bits (MODP) or 250 bits (ECP), and
 * hybrid ML-KEM only as an additional key exchange. ESP proposals must name a DH group
 * so that every CHILD_SA has perfect forward secrecy.
 */

/** One finding about a proposal: a rule id and an "Expected …, found …" message. */
export interface ProposalIssue {
  rule: string;
  message: string;
}

type TokenKind = "enc" | "aead" | "integ" | "prf" | "dh" | "ke" | "esn";

const expectedCipher =
  "a TR-02102-3 cipher (aes128/192/256 in GCM or CCM with ICV 12 or 16, CBC or CTR)";
const expectedIntegrity = "TR-02102-3 integrity (sha256, sha384, sha512, aesxcbc, aescmac)";
const expectedPrf = "a TR-02102-3 PRF (prfsha256, prfsha384, prfsha512, prfaesxcbc, prfaescmac)";
const expectedDh =
  "a TR-02102-3 DH group (ecp256, ecp384, ecp521, ecp256bp, ecp384bp, ecp512bp, modp3072 or larger)";

const dhGroups = /^(ecp(256|384|521)|ecp(256|384|512)bp|modp(3072|4096|6144|8192))$/;
const pqKems = /^mlkem(512|768|1024)$/;

/** Classify one token: its kind when allowed, or the finding that rejects it. */
function classify(token: string): TokenKind | ProposalIssue {
  if (/^aes(128|192|256)?(ctr)?$/.test(token)) return "enc";
  if (/^aes(128|192|256)?(gcm|ccm)(12|16|96|128)?$/.test(token)) return "aead";
  if (/^aes(128|192|256)?(gcm|ccm)(8|64)$/.test(token)) {
    return {
      rule: "tr02102/icv",
      message: `Expected an AEAD ICV of 12 or 16 bytes, found "${token}" (8 bytes)`,
    };
  }
  if (/^(sha256|sha384|sha512|sha2_(256|384|512)|aesxcbc|aescmac)$/.test(token)) return "integ";
  if (/^prf(sha256|sha384|sha512|sha2_(256|384|512)|aesxcbc|aescmac)$/.test(token)) return "prf";
  if (dhGroups.test(token)) return "dh";
  if (/^ke[1-7]_/.test(token)) {
    const inner = token.slice(4);
    // keN_none makes that additional key exchange optional (strongSwan 6).
    if (pqKems.test(inner) || dhGroups.test(inner) || inner === "none") return "ke";
    return (
      classifyDh(inner) ?? {
        rule: "vpn/proposal-token",
        message: `Expected a strongSwan key exchange after ${token.slice(0, 4)}, found "${token}"`,
      }
    );
  }
  if (token === "esn" || token === "noesn") return "esn";
  if (token === "default") {
    return {
      rule: "tr02102/proposal-default",
      message: `Expected explicit TR-02102-3 algorithms, found "default" (strongSwan's defaults include ChaCha20-Poly1305 and Curve25519)`,
    };
  }
  if (/^(ikev1|ike1|aggressive|main)$/.test(token)) {
    return {
      rule: "tr02102/ikev1",
      message: `Expected an IKEv2 proposal (TR-02102-3 covers IKEv2 only), found "${token}"`,
    };
  }
  if (
    /^(3des|des|blowfish\d*|cast128|camellia\w*|chacha20poly1305|null|twofish\w*|serpent\w*|idea|aes\d*gmac)$/.test(
      token,
    )
  ) {
    return { rule: "tr02102/cipher", message: `Expected ${expectedCipher}, found "${token}"` };
  }
  if (/^(md5|md5_128|sha1|sha|sha1_160|sha256_96|sha2_256_96)$/.test(token)) {
    return {
      rule: "tr02102/integrity",
      message: `Expected ${expectedIntegrity}, found "${token}"`,
    };
  }
  if (/^prf(md5|sha1|sha)$/.test(token)) {
    return { rule: "tr02102/prf", message: `Expected ${expectedPrf}, found "${token}"` };
  }
  if (pqKems.test(token)) {
    return {
      rule: "tr02102/pq-hybrid",
      message: `Expected ML-KEM only as an additional key exchange (ke1_${token}) next to a classical group, found "${token}" alone`,
    };
  }
  return (
    classifyDh(token) ?? {
      rule: "vpn/proposal-token",
      message: `Expected a strongSwan algorithm keyword, found "${token}"`,
    }
  );
}

function classifyDh(token: string): ProposalIssue | undefined {
  if (
    /^(modp(768|1024|1536|2048)|modp1024s160|modp2048s2(24|56)|ecp(192|224)|ecp224bp|curve25519|x25519|curve448|x448)$/.test(
      token,
    )
  ) {
    return { rule: "tr02102/dh-group", message: `Expected ${expectedDh}, found "${token}"` };
  }
  return undefined;
}

/** Every finding about one proposal string; empty when it conforms. */
export function checkProposal(proposal: string, kind: "ike" | "esp"): ProposalIssue[] {
  const issues: ProposalIssue[] = [];
  const kinds = new Set<TokenKind>();
  for (const token of proposal.split("-")) {
    if (token === "") {
      issues.push({
        rule: "vpn/proposal-token",
        message: `Expected algorithm keywords joined by single hyphens, found "${proposal}"`,
      });
      continue;
    }
    const result = classify(token);
    if (typeof result === "string") kinds.add(result);
    else issues.push(result);
  }
  if (issues.length > 0) return issues;
  if (!kinds.has("enc") && !kinds.has("aead")) {
    issues.push({
      rule: "vpn/proposal-incomplete",
      message: `Expected an encryption algorithm in "${proposal}", found none`,
    });
  }
  if (kinds.has("enc") && !kinds.has("integ")) {
    issues.push({
      rule: "vpn/proposal-incomplete",
      message: `Expected an integrity algorithm with a non-AEAD cipher in "${proposal}", found none`,
    });
  }
  if (kind === "ike" && kinds.has("aead") && !kinds.has("prf")) {
    issues.push({
      rule: "vpn/proposal-incomplete",
      message: `Expected a PRF with an AEAD cipher in IKE proposal "${proposal}", found none`,
    });
  }
  if (kind === "esp" && kinds.has("prf")) {
    issues.push({
      rule: "vpn/proposal-token",
      message: `Expected no PRF in an ESP proposal, found one in "${proposal}"`,
    });
  }
  if (!kinds.has("dh") && keyExchangeForm(proposal).mlkem) {
    issues.push({
      rule: "tr02102/pq-hybrid",
      message: `Expected ML-KEM only next to a classical TR-02102 group (e.g. ecp384-ke1_mlkem768), found ML-KEM without one in "${proposal}"`,
    });
  } else if (!kinds.has("dh")) {
    issues.push(
      kind === "esp"
        ? {
            rule: "tr02102/pfs",
            message: `Expected a DH group in ESP proposal "${proposal}" (perfect forward secrecy), found none`,
          }
        : {
            rule: "vpn/proposal-incomplete",
            message: `Expected a DH group in IKE proposal "${proposal}", found none`,
          },
    );
  }
  return issues;
}

/** The key exchanges of one proposal: its classical groups and its additional ones (RFC 9370). */
export interface KeyExchangeForm {
  /** Groups of the initial key exchange (`ecp384`, `modp3072` …). */
  classical: string[];
  /** Additional key exchanges by slot: `{ 1: ["mlkem768"] }` for `ke1_mlkem768`. */
  additional: Record<number, string[]>;
  /** Some slot offers ML-KEM. */
  mlkem: boolean;
  /** A classical group plus a slot that can only be ML-KEM: every SA made with it is hybrid. */
  hybrid: boolean;
}

export function keyExchangeForm(proposal: string): KeyExchangeForm {
  const classical: string[] = [];
  const additional: Record<number, string[]> = {};
  for (const token of proposal.toLowerCase().split("-")) {
    const ke = /^ke([1-7])_(.+)$/.exec(token);
    if (ke) (additional[Number(ke[1])] ??= []).push(ke[2] as string);
    else if (dhGroups.test(token)) classical.push(token);
  }
  const slots = Object.values(additional);
  return {
    classical,
    additional,
    mlkem: slots.some((m) => m.some((x) => pqKems.test(x))),
    hybrid:
      classical.length > 0 && slots.some((m) => m.length > 0 && m.every((x) => pqKems.test(x))),
  };
}

/** Whether a proposal uses RFC 9370 additional key exchanges (strongSwan 6 syntax). */
export function usesAdditionalKe(proposal: string): boolean {
  return Object.keys(keyExchangeForm(proposal).additional).length > 0;
}

/**
 * The proposals koffer writes for a profile on its platform: as the profile says, except on a
 * release whose strongSwan cannot parse additional key exchanges (Debian 12), where the
 * hybrid ones of a `preferred` profile are left out (validation keeps a classical one).
 */
export function platformProposals(
  vpn: { proposals: { ike: string[]; esp: string[] } },
  additionalKeyExchanges: boolean,
): { ike: string[]; esp: string[] } {
  if (additionalKeyExchanges) return vpn.proposals;
  return {
    ike: vpn.proposals.ike.filter((p) => !usesAdditionalKe(p)),
    esp: vpn.proposals.esp.filter((p) => !usesAdditionalKe(p)),
  };
}
