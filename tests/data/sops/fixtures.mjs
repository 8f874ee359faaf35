// The plaintext of every SOPS fixture, with the rules and recipients it is encrypted for. encode.mjs
// turns each into `NAME` (encrypted) and `BASE.FORMAT.plain.json` (the values a decoder must return).
// `npmCheck: false` marks the fixtures the independent npm decoder cannot read (multi-document YAML,
// key_groups, the bytes type, go-yaml's octal integers), checked by the C++ decoder alone.

// A float whose value is integral (2.0), which JavaScript cannot tell from the integer 2.
export class Float {
  constructor(value) {
    this.value = value;
  }
}
// A value SOPS records with type "bytes" (a string, or a Buffer for bytes that are not UTF-8).
export class Bytes {
  constructor(text) {
    this.text = text;
  }
}
// A plain YAML scalar written as `yaml` and read by SOPS (go-yaml v3) as the number `value`: 0644 is 420.
export class Raw {
  constructor(yaml, value) {
    this.yaml = yaml;
    this.value = value;
  }
}
// A YAML comment line (the text after '#').
export class Comment {
  constructor(text) {
    this.text = text;
  }
}

const secret = (stringData, data) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "db-credentials", namespace: "shop", labels: { app: "shop" } },
  type: "Opaque",
  stringData,
  ...(data ? { data } : {}),
});

export const fixtures = [
  {
    name: "secret-default.sops.yaml",
    format: "yaml",
    documents: [secret({ username: "shop", password: "correct horse battery staple" })],
  },
  {
    name: "all-types.sops.yaml",
    format: "yaml",
    documents: [
      {
        "#top": new Comment(" settings for the shop"),
        name: "checkout",
        port: 8080,
        negative: -42,
        ratio: 0.25,
        whole_float: new Float(2),
        enabled: true,
        disabled: false,
        quoted_number: "8080",
        quoted_bool: "true",
        empty: "",
        nothing: null,
        multiline: "line one\nline two\n",
        unicode: "größe ✓ 日本",
        nested: {
          "#inner": new Comment(" the nested map"),
          deeper: { deepest: "bottom", count: 3 },
          list: ["a", 1, new Float(1.5), false],
          objects: [
            { name: "first", weight: 10 },
            { name: "second", weight: 20, tags: ["x", "y"] },
          ],
        },
        config_unencrypted: { visible: "in clear", level: 7 },
        "key with spaces": "spaced",
      },
    ],
  },
  {
    name: "all-types.sops.json",
    format: "json",
    documents: [
      {
        name: "checkout",
        port: 8080,
        ratio: 0.25,
        enabled: true,
        quoted_number: "8080",
        empty: "",
        nothing: null,
        nested: { deeper: { deepest: "bottom" }, list: ["a", 1, 1.5, false], objects: [{ n: 1 }, { n: 2 }] },
        token_unencrypted: "clear",
      },
    ],
  },
  {
    name: "encrypted-regex.sops.yaml",
    format: "yaml",
    rules: { encrypted_regex: "^(data|stringData)$" },
    documents: [secret({ password: "hunter2", apiKey: "k-123" }, { "tls.key": "c2VjcmV0LWtleQ==" })],
  },
  {
    name: "unencrypted-regex.sops.yaml",
    format: "yaml",
    rules: { unencrypted_regex: "^(apiVersion|kind|metadata|type)$" },
    documents: [secret({ password: "hunter3", replicas: "3" })],
  },
  {
    name: "encrypted-suffix.sops.yaml",
    format: "yaml",
    rules: { encrypted_suffix: "_secret" },
    documents: [{ host: "db.internal", port: 5432, password_secret: "s3cr3t", nested: { token_secret: 987 } }],
  },
  {
    name: "unencrypted-suffix.sops.yaml",
    format: "yaml",
    rules: { unencrypted_suffix: "_plain" },
    documents: [{ host_plain: "db.internal", password: "pw-in-suffix-file", block_plain: { a: 1, b: "two" } }],
  },
  {
    name: "mac-only-encrypted.sops.yaml",
    format: "yaml",
    rules: { encrypted_regex: "^(data|stringData)$", mac_only_encrypted: true },
    documents: [secret({ password: "mac-only-secret" })],
  },
  {
    name: "two-recipients.sops.yaml",
    format: "yaml",
    recipients: ["first", "second"],
    documents: [{ token: "shared-between-two", count: 2 }],
  },
  {
    name: "two-recipients.sops.json",
    format: "json",
    recipients: ["first", "second"],
    rules: { encrypted_regex: "^stringData$" },
    documents: [secret({ password: "json-two-recipients" })],
  },
  {
    name: "app.sops.env",
    format: "dotenv",
    documents: [{ DB_PASSWORD: "dotenv-secret", API_TOKEN: "t0k3n=with=equals", MOTD: "two\nlines", LOG_LEVEL_unencrypted: "debug" }],
  },
  {
    name: "multi-document.sops.yaml",
    format: "yaml",
    npmCheck: false,
    documents: [
      { kind: "ConfigMap", value: "first-doc-secret" },
      { kind: "Secret", value: "second-doc-secret", n: 5 },
    ],
  },
  {
    name: "key-groups.sops.yaml",
    format: "yaml",
    npmCheck: false,
    keyGroups: true,
    documents: [{ token: "from-a-key-group" }],
  },
  {
    name: "go-yaml-integers.sops.yaml",
    format: "yaml",
    npmCheck: false,
    documents: [
      {
        mode: new Raw("0644", 420),
        mode_unencrypted: new Raw("0644", 420),
        hex_unencrypted: new Raw("0x1F", 31),
        octal_unencrypted: new Raw("0o17", 15),
        binary_unencrypted: new Raw("-0b101", -5),
        grouped_unencrypted: new Raw("1_000", 1000),
        signed_unencrypted: new Raw("+12", 12),
      },
    ],
  },
  {
    name: "bytes.sops.yaml",
    format: "yaml",
    npmCheck: false,
    documents: [{ blob: new Bytes("raw bytes value"), plain: "str" }],
  },
  {
    // Not text once decrypted: a decoder that writes YAML or JSON must refuse it.
    name: "not-utf8.sops.yaml",
    format: "yaml",
    npmCheck: false,
    documents: [{ blob: new Bytes(Buffer.from([0x66, 0xff, 0xfe, 0x67])) }],
  },
];
