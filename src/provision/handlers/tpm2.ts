/**
 * TPM2+PIN enrolment (DISK-04) with `systemd-cryptenroll --tpm2-with-pin=yes --tpm2-pcrs=…`.
 *
 * Where a TPM is reachable — the laptop itself (`auto`), or a TPM given as a TCTI spec
 * (`--tpm2-device=swtpm:host=127.0.0.1,port=2321`, which tests use with swtpm) — the volume
 * gets a systemd-tpm2 token with a PIN. An image root has no TPM of its own: sealing to the
 * build host's TPM would make a key the laptop can never unseal, so the plan installs the
 * first-boot enrolment instead (koffer-tpm2-enrol.service, src/provision/resources/disk.ts)
 * and DISK-04 reports `pending` until the device has done it. Should this handler still meet
 * a target without a TPM, it notes the step as left for later rather than failing the run.
 *
 * Secrets never go into systemd-cryptenroll's environment or command line: koffer answers
 * its questions for the current passphrase and the new PIN as a systemd password agent
 * (ask-password.ts), not through $PASSWORD/$NEWPIN. (`--unlock-key-file=/dev/stdin` would
 * not do: a child's stdin is a socket, which it cannot open.)
 */
import { IncompleteError } from "../../errors.js";
import type { Target } from "../../targets/types.js";
import type { ChangeHandler, ChangeOutcome } from "../apply.js";
import type { Change } from "../types.js";
import type { HandlerState } from "./context.js";
import { startAskPasswordAgent } from "./ask-password.js";
import { readHeader } from "./luks.js";

/** The TPM to enrol against, or null when none is reachable for this target. */
async function tpmDevice(target: Target, state: HandlerState): Promise<string | null> {
  if (state.options.tpm2Device !== undefined) return state.options.tpm2Device;
  if (target.kind === "local" && (await target.readDir("/sys/class/tpm"))?.length) return "auto";
  return null;
}

export function tpm2EnrolHandler(state: HandlerState): ChangeHandler {
  return async (change: Change, target: Target): Promise<ChangeOutcome> => {
    if (change.kind !== "tpm2-enrol") throw new Error("unreachable");
    const header = await readHeader(target, change.device);
    const slots = new Set(header.keyslots.map((k) => k.id));
    const tokens = header.tokens.filter(
      (t) => t.type === "systemd-tpm2" && t.keyslots.some((s) => slots.has(s)),
    );
    const good = tokens.filter(
      (t) => t.tpm2Pin === true && change.pcrs.every((p) => (t.tpm2Pcrs ?? []).includes(p)),
    );
    if (good.length > 0 && good.length === tokens.length) return "unchanged";

    const device = await tpmDevice(target, state);
    if (device === null) {
      state.notes.push({
        resource: "disk",
        kind: "tpm2-first-boot",
        message: `TPM2+PIN enrolment of ${change.device} is left for the first boot on the device (no TPM reachable from ${target.location}; koffer-tpm2-enrol.service does it when installed): systemd-cryptenroll --tpm2-device=auto --tpm2-with-pin=yes --tpm2-pcrs=${change.pcrs.join("+")}`,
      });
      return "unchanged";
    }
    const pin = state.options.tpm2Pin;
    if (pin === undefined || pin === "")
      throw new IncompleteError(
        "E_NO_PIN",
        "TPM2 enrolment needs a PIN (--tpm2-pin-file, KOFFER_TPM2_PIN or the prompt)",
      );
    const key =
      state.options.passphrase ??
      (header.uuid === null ? undefined : state.recoveryKeys.get(header.uuid));
    if (key === undefined)
      throw new IncompleteError(
        "E_NO_PASSPHRASE",
        `enrolling TPM2 on ${change.device} needs its current passphrase`,
      );
    // "Please enter current passphrase for disk …:", "Please enter TPM2 PIN:" and "… (repeat):";
    // any other question stays unanswered.
    const agent = startAskPasswordAgent(target, "systemd-cryptenroll", (message) =>
      /TPM2 PIN/.test(message) ? pin : /current passphrase/.test(message) ? key : undefined,
    );
    const result = await target
      .exec(
        "systemd-cryptenroll",
        [
          `--tpm2-device=${device}`,
          "--tpm2-with-pin=yes",
          `--tpm2-pcrs=${change.pcrs.join("+")}`,
          // Replace a token without PIN or with other PCRs in the same step.
          ...(tokens.length > 0 ? ["--wipe-slot=tpm2"] : []),
          change.device,
        ],
        { timeoutMs: 5 * 60_000 },
      )
      .finally(() => agent.stop());
    if (result.exitCode !== 0)
      throw new IncompleteError(
        "E_TPM2",
        `systemd-cryptenroll on ${change.device} failed: ${result.stderr.trim().split("\n").slice(-3).join(" ")}`,
      );
    state.tpm2Enrolled.add(change.device);
    return "applied";
  };
}
