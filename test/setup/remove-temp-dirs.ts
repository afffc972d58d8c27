// Runs in every test file (vitest setupFiles): what tempDir() made is removed after the file.
import { afterAll } from "vitest";
import { removeTempDirs } from "../helpers/tmp.js";

afterAll(removeTempDirs);
