/**
 * koffer as a library: the same pieces the CLI uses, as typed functions.
 * Each area adds its exports here.
 */
export * from "./errors.js";
export type * from "./profiles/types.js";
export type * from "./facts/types.js";
export type * from "./report/types.js";
export type * from "./checks/types.js";
export type * from "./targets/types.js";
export { run as exec } from "./targets/exec.js";
export { version } from "./version.js";
export {
  parseRule,
  parseRuleLine,
  parseRulesFile,
  formatRule,
  toRuleFact,
  decodeRuleBytes,
  encodeRuleText,
  UsbRuleSyntaxError,
} from "./facts/usbguard-rules.js";
export type * from "./facts/usbguard-rules.js";
export * from "./report/render/index.js";
export { signDetached, verifyDetached } from "./report/sign.js";
export type { SignOptions, SignatureInfo } from "./report/sign.js";
export { mergeResults, expandInputs } from "./report/merge.js";
export type { FleetOverview, FleetMunicipality, MergeOptions } from "./report/merge.js";
export { loadProfile, loadProfileOrThrow, type LoadOptions } from "./profiles/loader.js";
export { validateProfile, validateProfiles, type FileReport } from "./profiles/validate.js";
export { baseline, baselineName } from "./profiles/baseline.js";
export {
  controlIds,
  attestControlIds,
  isControlId,
  type ControlId,
} from "./profiles/control-ids.js";
export { profileSchema } from "./profiles/schema.js";
export * from "./pki/index.js";
export { openTarget, RootTarget, LocalTarget, type OpenTargetOptions } from "./targets/index.js";
export { gatherFacts, factAreas } from "./facts/index.js";
export { controls, controlById, catalogueVersion } from "./checks/index.js";
export {
  evaluate,
  evaluateControl,
  factsSha256,
  readiness,
  type EvaluateOptions,
} from "./report/evaluate.js";
export {
  exitCodeFor,
  isPendingGate,
  isSeverity,
  severities,
  type PendingGate,
} from "./report/exit-code.js";
export { parseSwanctlConf, parseSwanctlFile, swanctlConnections } from "./facts/swanctl.js";
export { describeLuksVolume, parseLuks2Json, parseCrypttab, parseFstab } from "./facts/disk.js";
export {
  gatherInitrds,
  initrdCapabilities,
  listInitrd,
  InitrdFormatError,
  type InitrdLimits,
  type InitrdListing,
} from "./facts/initrd.js";
export {
  planProvision,
  resources as provisionResources,
  type PlanOptions,
} from "./provision/plan.js";
export { renderPlanText, unifiedDiff } from "./provision/plan-text.js";
export {
  provision,
  verifyTarget,
  writeReports,
  type ProvisionOptions,
  type ProvisionOutcome,
} from "./provision/provision.js";
export {
  applyChanges,
  type ApplyOptions,
  type ApplyReport,
  type ChangeHandler,
} from "./provision/apply.js";
export { rollback, type RollbackReport } from "./provision/rollback.js";
export {
  cleanupChroot,
  generateRecoveryKey,
  makeHandlers,
  type DeferredNote,
  type HandlerOptions,
} from "./provision/handlers/index.js";
export type { Change, ChangeKind } from "./provision/types.js";
export { gatherManagedFiles, managedPath, managedPaths } from "./facts/managed.js";
