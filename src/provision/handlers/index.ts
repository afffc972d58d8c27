/**
 * The handlers for the change kinds the apply engine does not do itself: packages, LUKS
 * keyslots, TPM2 enrolment and the VPN certificate. One call makes a set that shares the
 * run's secrets and collects the steps deliberately left for later.
 */
import type { ChangeHandler } from "../apply.js";
import type { ChangeKind } from "../types.js";
import { certificateHandler } from "./certificate.js";
import { dconfCompileHandler } from "./dconf.js";
import type { HandlerOptions, HandlerState } from "./context.js";
import { addRecoveryKeyHandler, convertKeyslotHandler, removeKeyslotHandler } from "./luks.js";
import { packagesHandler } from "./packages.js";
import { reencryptHandler } from "./reencrypt.js";
import { tpm2EnrolHandler } from "./tpm2.js";

export type { DeferredNote, HandlerOptions, HandlerState, ReencryptProgress } from "./context.js";
export { parseProgressLine } from "./reencrypt.js";
export { pbkdfArgs, pbkdfCostFromEnv } from "./context.js";
export {
  cleanupChroot,
  installedPackages,
  mountsBelow,
  needsCleanup,
  withImageSandbox,
} from "./packages.js";
export { generateRecoveryKey, opensSlot, readHeader, ESCROW_DIR } from "./luks.js";

export interface HandlerSet {
  handlers: Partial<Record<ChangeKind, ChangeHandler>>;
  state: HandlerState;
}

/** Handlers for one provision run. `now` is the run's clock (certificates, escrow records). */
export function makeHandlers(
  options: HandlerOptions,
  now: () => Date = () => new Date(),
): HandlerSet {
  const state: HandlerState = {
    options,
    notes: [],
    aptUpdated: false,
    recoveryKeys: new Map(),
    tpm2Enrolled: new Set(),
  };
  const packages = packagesHandler(state);
  return {
    state,
    handlers: {
      "install-packages": packages,
      "purge-packages": packages,
      "luks-convert-keyslot": convertKeyslotHandler(state),
      "luks-remove-keyslot": removeKeyslotHandler(state, now),
      "luks-add-recovery-key": addRecoveryKeyHandler(state, now),
      "luks-reencrypt": reencryptHandler(state),
      "tpm2-enrol": tpm2EnrolHandler(state),
      "vpn-certificate": certificateHandler(state, now),
      "compile-dconf": dconfCompileHandler(),
    },
  };
}
