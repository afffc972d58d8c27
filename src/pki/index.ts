/** PKI: VPN client certificates, RFC 5280 path validation, PKCS#12, recovery-key escrow. */
export { describeCertificate, splitPemBundle, type CertificateInfoLite } from "./certificate.js";
export {
  verifyCertificatePath,
  type PathInput,
  type PathPurpose,
  type PathResult,
} from "./path.js";
export {
  createCsr,
  csrProblems,
  generateKey,
  issueCertificate,
  keyProblems,
  parseCsr,
  TR02102_SIGNATURE_HORIZON,
  type ParsedCsr,
} from "./build.js";
export { createPkcs12, readPkcs12, type Pkcs12Contents } from "./pkcs12.js";
export { escrowRecoveryKey, openEscrow } from "./escrow.js";
export {
  certPaths,
  certificateStatus,
  createTestCa,
  installCertificate,
  renderSubject,
  requestCertificate,
  signRequest,
  writeFileAtomic,
  type CertStatus,
  type InstallResult,
  type RequestResult,
  type TestCaResult,
} from "./lifecycle.js";
