// Writes the SOPS test fixtures: an encoder of its own on Node's crypto (AES-256-GCM, SHA-512) and the
// `age` command (the data key), written apart from the C++ decoder so that both must agree with the
// format and not merely with each other. Run it with `node encode.mjs` in this folder; it rewrites
// every `*.sops.*` and `*.plain.json` file. The random IVs and data keys change on every run.
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fixtures, Float, Bytes, Comment, Raw } from "./fixtures.mjs";

const here = new URL(".", import.meta.url).pathname;
const recipientOf = (name) =>
  readFileSync(`${here}keys/${name}.agekey`, "utf8").match(/public key: (age1[0-9a-z]+)/)[1];

// Go's strconv.FormatFloat(f, 'f', -1, 64) for the values the fixtures use: the shortest round-trip
// digits, never an exponent (JavaScript's own form, outside the range where it switches to one).
function goFloat(f) {
  const a = Math.abs(f);
  if (a !== 0 && (a >= 1e21 || a < 1e-6)) throw new Error(`float ${f} is outside the encoder's range`);
  return String(f);
}

// SOPS's ToBytes and the type it records, for one plaintext leaf.
function leaf(value, format) {
  if (value instanceof Raw) return leaf(value.value, format);
  if (value instanceof Bytes) return { text: value.text, type: "bytes" };
  if (value instanceof Float) return { text: goFloat(value.value), type: "float" };
  if (typeof value === "string") return { text: value, type: "str" };
  if (typeof value === "boolean") return { text: value ? "True" : "False", type: "bool" };
  if (typeof value === "number") {
    // The JSON store reads every number as a float; YAML keeps integers apart. (Dotenv has strings only.)
    if (format === "json" || !Number.isInteger(value)) return { text: goFloat(value), type: "float" };
    return { text: String(value), type: "int" };
  }
  throw new Error(`no leaf type for ${value}`);
}

function encryptValue(text, type, dataKey, aad) {
  const iv = randomBytes(32);
  const cipher = createCipheriv("aes-256-gcm", dataKey, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([cipher.update(Buffer.from(text)), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${iv.toString("base64")},tag:${tag.toString(
    "base64"
  )},type:${type}]`;
}

function shouldEncrypt(path, rules) {
  const anyKey = (pred) => path.some(pred);
  if (rules.unencrypted_suffix) return !anyKey((k) => k.endsWith(rules.unencrypted_suffix));
  if (rules.encrypted_suffix) return anyKey((k) => k.endsWith(rules.encrypted_suffix));
  if (rules.unencrypted_regex) return !anyKey((k) => new RegExp(rules.unencrypted_regex).test(k));
  if (rules.encrypted_regex) return anyKey((k) => new RegExp(rules.encrypted_regex).test(k));
  return !anyKey((k) => k.endsWith("_unencrypted"));
}

// Walks a plaintext tree in document order: returns the encrypted tree and feeds the MAC hash. Comments
// take the path of the mapping they sit in and never enter the MAC; lists add nothing to the path.
function encryptTree(value, path, ctx) {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((v) => encryptTree(v, path, ctx));
  if (value instanceof Comment) {
    if (!shouldEncrypt(path, ctx.rules)) return value;
    return new Comment(encryptValue(value.text, "comment", ctx.dataKey, path.map((k) => `${k}:`).join("") || ":"));
  }
  if (isBranch(value)) {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = encryptTree(v, v instanceof Comment ? path : [...path, k], ctx);
    }
    return out;
  }
  const { text, type } = leaf(value, ctx.format);
  const encrypted = shouldEncrypt(path, ctx.rules);
  if (!ctx.rules.mac_only_encrypted || encrypted) ctx.hash.update(Buffer.from(text));
  if (!encrypted || text.length === 0) return value;
  return encryptValue(text, type, ctx.dataKey, path.map((k) => `${k}:`).join(""));
}

// ---- output ----

const plainKey = (k) => (/^[A-Za-z_][A-Za-z0-9_.\/-]*$/.test(k) ? k : JSON.stringify(k));

function yamlScalar(v) {
  if (v === null) return "null";
  if (v instanceof Raw) return v.yaml;
  if (v instanceof Float) return Number.isInteger(v.value) ? `${v.value}.0` : String(v.value);
  if (v instanceof Bytes) return JSON.stringify(v.text);
  if (typeof v === "string") return v.startsWith("ENC[") ? v : JSON.stringify(v);
  return String(v);
}

const isBranch = (v) =>
  v !== null &&
  typeof v === "object" &&
  !(v instanceof Float) &&
  !(v instanceof Bytes) &&
  !(v instanceof Comment) &&
  !(v instanceof Raw);

function yamlLines(value, indent, lines) {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isBranch(item) && (Array.isArray(item) ? item.length : Object.keys(item).length)) {
        lines.push(`${pad}-`);
        yamlLines(item, indent + 4, lines);
      } else {
        lines.push(`${pad}- ${isBranch(item) ? (Array.isArray(item) ? "[]" : "{}") : yamlScalar(item)}`);
      }
    }
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (v instanceof Comment) {
      lines.push(`${pad}#${v.text}`);
    } else if (typeof v === "string" && v.includes("\n") && v.startsWith("-----BEGIN")) {
      lines.push(`${pad}${plainKey(k)}: |`);
      for (const l of v.replace(/\n$/, "").split("\n")) lines.push(`${pad}    ${l}`);
    } else if (isBranch(v) && (Array.isArray(v) ? v.length : Object.keys(v).length)) {
      lines.push(`${pad}${plainKey(k)}:`);
      yamlLines(v, indent + 4, lines);
    } else {
      lines.push(`${pad}${plainKey(k)}: ${isBranch(v) ? (Array.isArray(v) ? "[]" : "{}") : yamlScalar(v)}`);
    }
  }
}

const toYaml = (doc) => {
  const lines = [];
  yamlLines(doc, 0, lines);
  return lines.join("\n") + "\n";
};

// JSON.stringify with the fixtures' markers as plain values and comments left out.
const toJsonValue = (v) => {
  if (v instanceof Float) return v.value;
  if (v instanceof Bytes) return typeof v.text === "string" ? v.text : { hex: v.text.toString("hex") };
  if (v instanceof Raw) return v.value;
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof Comment)).map(toJsonValue);
  if (isBranch(v))
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => !(x instanceof Comment))
        .map(([k, x]) => [k, toJsonValue(x)])
    );
  return v;
};

function encodeFixture(fx) {
  const dataKey = randomBytes(32);
  const hash = createHash("sha512");
  const rules = fx.rules ?? {};
  if (rules.mac_only_encrypted) hash.update(Buffer.from(createHash("sha256").update("sops").digest()));
  const ctx = { dataKey, hash, rules, format: fx.format };
  const encryptedDocs = fx.documents.map((doc) => encryptTree(doc, [], ctx));
  const lastmodified = "2026-12-07T01:02:03Z";
  const mac = encryptValue(hash.digest("hex").toUpperCase(), "str", dataKey, lastmodified);
  const age = (fx.recipients ?? ["first"]).map((name) => {
    const recipient = recipientOf(name);
    const enc = execFileSync("age", ["--encrypt", "--armor", "--recipient", recipient], { input: dataKey }).toString();
    return { recipient, enc };
  });
  const sops = fx.keyGroups ? { key_groups: [{ age }] } : { age };
  Object.assign(sops, { lastmodified, mac }, rules, { version: "3.9.4" });

  let text;
  if (fx.format === "dotenv") {
    // SOPS's dotenv store: the metadata flattened under sops_ keys (a list index as __list_N, a map key
    // as __map_K), sorted, and every line break in a value written as a literal \n.
    const flat = {};
    const flatten = (prefix, v) => {
      if (Array.isArray(v)) v.forEach((x, i) => flatten(`${prefix}__list_${i}`, x));
      else if (v !== null && typeof v === "object")
        for (const [k, x] of Object.entries(v)) flatten(prefix.endsWith("sops") ? `${prefix}_${k}` : `${prefix}__map_${k}`, x);
      else flat[prefix] = String(v);
    };
    flatten("sops", sops);
    const escape = (v) => String(v).replaceAll("\n", "\\n");
    const lines = Object.entries(encryptedDocs[0]).map(([k, v]) => `${k}=${escape(v)}`);
    for (const k of Object.keys(flat).sort()) lines.push(`${k}=${escape(flat[k])}`);
    text = lines.join("\n") + "\n";
  } else if (fx.format === "json") {
    text = JSON.stringify({ ...toJsonValue(encryptedDocs[0]), sops }, null, "\t") + "\n";
  } else {
    text = encryptedDocs.map((doc) => toYaml({ ...doc, sops })).join("---\n");
  }
  writeFileSync(`${here}${fx.name}`, text);
  const plainName = fx.name.replace(/\.sops\.(yaml|json|env)$/, ".$1.plain.json");
  writeFileSync(`${here}${plainName}`, JSON.stringify(fx.documents.map(toJsonValue), null, 2) + "\n");
}

for (const fx of fixtures) encodeFixture(fx);
console.log(`wrote ${fixtures.length} fixtures`);
