// Checks the committed SOPS fixtures with an independent decoder from the npm registry (sops-age,
// installed here by `npm ci` from package-lock.json; this script installs nothing): every fixture it
// can read must decrypt, with the first test key, to exactly the values in its `.plain.json`. Exits
// non-zero on any difference. Prints one line per fixture and "N passed, N failed" at the end.
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { fixtures } from "./fixtures.mjs";

const here = new URL(".", import.meta.url).pathname;
let decryptSops;
try {
  ({ decryptSops } = await import("sops-age"));
} catch {
  console.error(`sops-age is not installed in ${here}node_modules: run scripts/bootstrap.sh (npm ci there)`);
  process.exit(2);
}

const identity = (name) =>
  readFileSync(`${here}keys/${name}.agekey`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("AGE-SECRET-KEY-1"));

let passed = 0;
let failed = 0;
for (const fx of fixtures) {
  if (fx.npmCheck === false) continue;
  const text = readFileSync(`${here}${fx.name}`, "utf8");
  const expected = JSON.parse(readFileSync(`${here}${fx.name.replace(/\.sops\.(yaml|json|env)$/, ".$1.plain.json")}`, "utf8"))[0];
  // The last recipient's key, so that a fixture for two recipients is read with the second one.
  const key = identity((fx.recipients ?? ["first"]).at(-1));
  try {
    const got = await decryptSops(text, { secretKey: key, fileType: fx.format === "dotenv" ? "env" : fx.format });
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(got)), expected)) {
      passed++;
      console.log(`ok ${fx.name}`);
    } else {
      failed++;
      console.log(`FAIL ${fx.name}: decrypted to ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${fx.name}: ${e.message}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
