/**
 * `koffer provision` as a library function: load the profile, open the target, gather,
 * plan, confirm, apply (with the handlers for packages, keyslots, TPM2 and the certificate),
 * gather again, evaluate, and write the JSON and HTML reports on the target
 * (/var/lib/koffer/reports/<run-id>.{json,html}) and into a local directory.
 *
 * Nothing touches the target before the profile has loaded: an invalid profile throws an
 * InputError (exit 78) with the target exactly as it was.
 */
import { mkdir } from "node:fs/promises";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { IncompleteError, InputError } from "../errors.js";
import { gatherFacts } from "../facts/index.js";
import { step, type StepEvents } from "../progress.js";
import type { Facts } from "../facts/types.js";
import type { Lang } from "../report/types.js";
import type { Profile } from "../profiles/types.js";
import { evaluate } from "../report/evaluate.js";
import { exitCodeFor } from "../report/exit-code.js";
import type { Result } from "../report/types.js";
import { readVpnCa } from "../profiles/vpn-ca.js";
import { openTarget, type OpenTargetOptions } from "../targets/index.js";
import { writeHostFileAtomic } from "../targets/files.js";
import type { Target } from "../targets/types.js";
import { applyChanges, type ApplyProgress, type ApplyReport } from "./apply.js";
import {
  cleanupChroot,
  makeHandlers,
  needsCleanup,
  type DeferredNote,
  type HandlerOptions,
} from "./handlers/index.js";
import { planProvision } from "./plan.js";
import { REPORT_DIR, acquireLock, newRunId } from "./state.js";
import type { Change } from "./types.js";

export interface ProvisionOptions {
  /** The profile file (already loaded profiles are passed as `profile`). */
  profileFile?: string;
  profile?: Profile;
  root?: string;
  disks?: string[];
  /** A laptop over ssh (`ssh` is the destination; host key and login options beside it). */
  ssh?: Omit<OpenTargetOptions, "root" | "disks">;
  /** Asked with the plan when there is something to change; false stops before any change. */
  confirm?: (changes: Change[]) => Promise<boolean>;
  /** Called with the plan before confirmation (the CLI prints it). */
  onPlan?: (changes: Change[]) => void;
  progress?: ApplyProgress;
  /** Long steps (gathering facts, writing the reports) for the CLI to show. */
  steps?: StepEvents;
  /** Secrets and options for the handlers (the profile is added here). */
  handlers?: Omit<HandlerOptions, "profile">;
  /** Local directory for the reports (and copies of escrow envelopes). */
  outDir?: string;
  lang?: Lang;
  now?: () => Date;
  runId?: string;
}

export interface ProvisionOutcome {
  runId: string;
  changes: Change[];
  /** null when there was nothing to change or the technician declined. */
  applied: ApplyReport | null;
  declined: boolean;
  notes: DeferredNote[];
  result: Result;
  /** Report paths on the target (target paths) and locally (host paths). */
  reports: { target: string[]; local: string[] };
  /** 0 compliant, 1 non-compliant (or declined), 2 a change failed. */
  exitCode: number;
}

/** Gather and evaluate a target against a profile (the verify half of provisioning). */
export async function verifyTarget(
  target: Target,
  profile: Profile,
  options: { now: Date; lang?: Lang; startedAt?: Date; steps?: StepEvents },
): Promise<{ facts: Facts; result: Result }> {
  const facts = await step(options.steps, "gathering facts", () =>
    gatherFacts(target, { profile, now: options.now }),
  );
  const vpnCa = await readVpnCa(profile);
  const result = evaluate(profile, facts, {
    now: options.now,
    startedAt: options.startedAt ?? options.now,
    lang: options.lang ?? "de",
    vpnCa,
  });
  return { facts, result };
}

async function loadProfile(options: ProvisionOptions): Promise<Profile> {
  if (options.profile !== undefined) return options.profile;
  if (options.profileFile === undefined) throw new InputError("no profile given");
  const { loadProfileOrThrow } = await import("../profiles/loader.js");
  return loadProfileOrThrow(options.profileFile);
}

/** Plan, confirm, apply, re-verify and report. Throws only when the run cannot start. */
export async function provision(options: ProvisionOptions): Promise<ProvisionOutcome> {
  const now = options.now ?? (() => new Date());
  // First the profile: an invalid one stops the run before the target is even opened.
  const profile = await loadProfile(options);
  const vpnCa = await readVpnCa(profile);
  const where: OpenTargetOptions = {
    ...(options.root === undefined ? {} : { root: options.root }),
    disks: options.disks ?? [],
    ...options.ssh,
  };
  const target = await openTarget(where);
  try {
    const startedAt = now();
    const runId = options.runId ?? newRunId(startedAt);
    const handlerOptions: HandlerOptions = {
      pbkdfCost: "default",
      ...options.handlers,
      profile,
      ...(options.outDir === undefined ? {} : { escrowCopyDir: resolve(options.outDir) }),
    };
    // A provision killed during apt left koffer's policy-rc.d in the tree (it would keep
    // every service from starting on the laptop). Only the lock holder may remove it: while
    // another provision runs, it is that run's, and taking the lock fails (E_LOCKED).
    if (await needsCleanup(target)) {
      const lock = await acquireLock(target, runId);
      try {
        await cleanupChroot(target);
      } finally {
        await lock.release();
      }
    }
    const facts = await step(options.steps, "gathering facts", () =>
      gatherFacts(target, { profile, now: startedAt }),
    );
    const changes = planProvision(profile, facts, {
      now: startedAt,
      vpnCa,
      canIssue: handlerOptions.ca !== undefined,
      ...(handlerOptions.tpm2Device === undefined ? {} : { tpm2Device: handlerOptions.tpm2Device }),
    });
    options.onPlan?.(changes);
    if (target.kind === "ssh")
      refuseCuttingTheConnection(changes, target.location, loginName(target, facts));
    let applied: ApplyReport | null = null;
    let declined = false;
    const set = makeHandlers(handlerOptions, now);
    if (changes.length > 0) {
      if (options.confirm !== undefined && !(await options.confirm(changes))) declined = true;
      else {
        applied = await applyChanges(target, changes, {
          runId,
          handlers: set.handlers,
          ...(options.progress === undefined ? {} : { progress: options.progress }),
        });
      }
    }
    // A fresh target for the second gather: readers cache per target (dpkg status …).
    // Over ssh it shares the run's one connection.
    const after = target.fresh?.() ?? (await openTarget(where));
    const { result } = await verifyTarget(after, profile, {
      now: now(),
      startedAt,
      ...(options.lang === undefined ? {} : { lang: options.lang }),
      ...(options.steps === undefined ? {} : { steps: options.steps }),
    });
    await after.close();
    // Declined: the target stays exactly as it was, reports included.
    const reports = declined
      ? { target: [], local: [] }
      : await step(options.steps, "writing the reports (HTML, PDF with chromium)", () =>
          writeReports(target, result, runId, options.outDir, options.lang),
        );
    const exitCode =
      applied !== null && applied.failed.length > 0 ? 2 : declined ? 1 : exitCodeFor(result);
    return { runId, changes, applied, declined, notes: set.state.notes, result, reports, exitCode };
  } finally {
    await target.close();
  }
}

/**
 * Over ssh, a plan that would cut the run's own way in is refused before anything is applied:
 * stopping or purging the SSH server, or locking and expiring the account the run logs in
 * with (ACC-01 switches off personal accounts the profile does not approve). `location` is
 * the target's "user@host[:port]"; without a user, ssh logs in as the local user.
 */
export function refuseCuttingTheConnection(
  changes: Change[],
  location: string,
  login: string = destinationUser(location),
): void {
  const cutting = changes.filter(
    (c) =>
      (c.kind === "mask-unit" || c.kind === "disable-unit") &&
      /^ssh(d)?\.(service|socket)$/.test(c.unit),
  );
  const purges = changes.some(
    (c) => c.kind === "purge-packages" && c.packages.includes("openssh-server"),
  );
  if (cutting.length > 0 || purges) {
    throw new IncompleteError(
      "E_SSH_SELF_CUT",
      `the profile does not allow SSH (spec.network.ssh), so provisioning ${location} over ssh would stop its SSH server mid-run; allow administrative SSH in the profile (keys only, TR-02102-4, tunnel address) or provision at the laptop`,
    );
  }
  if (changes.some((c) => c.kind === "lock-account" && c.expire === true && c.user === login))
    throw new IncompleteError(
      "E_SSH_SELF_CUT",
      `${login} is not among the profile's accounts (spec.accounts), so provisioning ${location} over ssh would lock and expire the account it logs in with; add ${login} to the profile's admins, or log in with an account the profile approves`,
    );
}

/** The user of a "user@host" location; without one, ssh logs in as the local user. */
function destinationUser(location: string): string {
  const at = location.lastIndexOf("@");
  return at > 0 ? location.slice(0, at) : userInfo().username;
}

/**
 * The account an ssh run is logged in with: the name the target's own passwd gives the uid of
 * its greeting (so an ssh_config `User` is seen), else the location's user.
 */
export function loginName(
  target: Pick<Target, "location" | "loginUid">,
  facts: Pick<Facts, "accounts">,
): string {
  const uid = target.loginUid;
  const entry =
    uid === undefined || uid === null
      ? undefined
      : facts.accounts.passwd.find((p) => p.uid === uid);
  return entry?.name ?? destinationUser(target.location);
}

/** Write the run's JSON and HTML report on the target and, when asked, into `outDir`. */
export async function writeReports(
  target: Target,
  result: Result,
  runId: string,
  outDir: string | undefined,
  lang: Lang = "de",
): Promise<{ target: string[]; local: string[] }> {
  const { render } = await import("../report/render/index.js");
  const json = render(result, "json", { lang });
  const html = render(result, "html", { lang });
  const written = { target: [] as string[], local: [] as string[] };
  await target.mkdirp(REPORT_DIR, 0o700);
  if (outDir !== undefined) await mkdir(resolve(outDir), { recursive: true });
  for (const [ext, text] of [
    ["json", json],
    ["html", html],
  ] as const) {
    const path = `${REPORT_DIR}/${runId}.${ext}`;
    // A report names devices and accounts: root-only on the laptop.
    await target.writeFileAtomic(path, text, { mode: 0o600, uid: 0, gid: 0 });
    written.target.push(path);
    if (outDir !== undefined) {
      const local = join(resolve(outDir), `${runId}.${ext}`);
      await writeHostFileAtomic(local, text, { mode: 0o600 });
      written.local.push(local);
    }
  }
  return written;
}
