/**
 * A real Debian 12 (bookworm) root filesystem, built once with debootstrap and cached, so
 * gatherers and checks meet a real distribution's files. The builder lives in
 * src/demo/debian-root.ts (`koffer demo` uses the same cache); this module keeps the tests'
 * API. Tests must treat the tree as read-only; copy it (`cp -a`) before changing anything.
 */
export {
  debianMirror,
  debianRoot,
  debianRootPackages,
  debianRootPath,
  debianRootSkipReason,
} from "../../src/demo/debian-root.js";
