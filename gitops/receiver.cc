// The Receiver kind (see receiver.h).
#include "gitops/receiver.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "base/base64.h"
#include "base/json_fields.h"

namespace sluice::gitops {

using json = nlohmann::json;
using namespace json_fields;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  size_t len = 0;
  if (OPENSSL_buf2hexstr_ex(out.data(), out.size(), &len, bytes, n, '\0') != 1) return "";
  out.resize(n * 2);
  return lower(out);
}

std::optional<std::string> unhex(const std::string& text) {
  if (text.empty() || text.size() % 2 != 0) return std::nullopt;
  std::string out(text.size() / 2, '\0');
  size_t len = 0;
  if (OPENSSL_hexstr2buf_ex(reinterpret_cast<unsigned char*>(out.data()), out.size(), &len, text.c_str(),
                            '\0') != 1 ||
      len != out.size())
    return std::nullopt;
  return out;
}

const EVP_MD* digestNamed(const std::string& algo) {
  if (algo == "sha1") return EVP_sha1();
  if (algo == "sha256") return EVP_sha256();
  if (algo == "sha512") return EVP_sha512();
  return nullptr;
}

// Whether `a` equals `b`, in a time that depends on neither: both are hashed first, so that even their
// lengths do not show.
bool secretEquals(const std::string& a, const std::string& b) {
  unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
  unsigned int na = 0, nb = 0;
  if (EVP_Digest(a.data(), a.size(), da, &na, EVP_sha256(), nullptr) != 1 ||
      EVP_Digest(b.data(), b.size(), db, &nb, EVP_sha256(), nullptr) != 1)
    return false;
  return na == nb && CRYPTO_memcmp(da, db, na) == 0;
}

bool eventAccepted(const ReceiverSpec& spec, const std::string& event) {
  if (spec.events.empty()) return true;
  return std::any_of(spec.events.begin(), spec.events.end(),
                     [&](const std::string& e) { return lower(e) == lower(event); });
}

const char* typeName(ReceiverType t) {
  switch (t) {
    case ReceiverType::GitHub:
      return "github";
    case ReceiverType::GitLab:
      return "gitlab";
    case ReceiverType::Generic:
      return "generic";
    case ReceiverType::GenericHmac:
      return "generic-hmac";
  }
  return "";
}

void readResource(ObjectReader& o, ReceiverResource& res) {
  Reporter& r = o.reporter();
  o.read("apiVersion", res.apiVersion, readString);
  o.readRequired("kind", res.kind);
  if (!res.kind.empty() && res.kind != "GitRepository" && res.kind != "Kustomization")
    r.error(o.path("kind"),
            "must be GitRepository or Kustomization (the kinds Sluice reconciles), got \"" + res.kind + "\"");
  o.readRequired("name", res.name);
  o.read("namespace", res.ns, readString);
  o.read("matchLabels", res.matchLabels, readStringMap);
  if (!res.matchLabels.empty() && res.name != "*")
    r.warning(o.path("matchLabels"), "is ignored: it selects only with name \"*\"");
}

void readSpec(ObjectReader& o, ReceiverSpec& spec) {
  Reporter& r = o.reporter();
  std::string type;
  o.readRequired("type", type);
  if (type == "github") {
    spec.type = ReceiverType::GitHub;
  } else if (type == "gitlab") {
    spec.type = ReceiverType::GitLab;
  } else if (type == "generic") {
    spec.type = ReceiverType::Generic;
  } else if (type == "generic-hmac") {
    spec.type = ReceiverType::GenericHmac;
  } else if (!type.empty()) {
    r.error(
        o.path("type"),
        "must be github, gitlab, generic or generic-hmac (the types Sluice verifies), got \"" + type + "\"");
  }
  o.read("events", spec.events, readStringList);
  if (const json* list = o.get("resources")) {
    forEachObject(r, *list, o.path("resources"), [&](ObjectReader& ro) {
      ReceiverResource res;
      readResource(ro, res);
      ro.warnUnknown();
      spec.resources.push_back(std::move(res));
    });
  } else {
    r.error(o.path("resources"), "is required");
  }
  if (const json* secret = o.get("secretRef")) {
    readObject(r, *secret, o.path("secretRef"),
               [&](ObjectReader& so) { so.readRequired("name", spec.secretRefName); });
  } else {
    r.error(o.path("secretRef"), "is required");
  }
  std::optional<Duration> interval;
  o.read("interval", interval, readDuration);
  if (interval) {
    if (interval->count() <= 0) {
      r.error(o.path("interval"), "must be more than 0s");
    } else {
      spec.interval = *interval;
    }
  }
  o.read("suspend", spec.suspend, readBool);
  o.rejectUnsupported("resourceFilter", "is not supported by sluice yet");
}

}  // namespace

std::optional<Receiver> parseReceiver(const json& object, const SourceMap& source, Diagnostics& diags) {
  Receiver receiver;
  ObjectMeta meta;
  std::string kind;
  const bool ok = readInOrder(source, diags, [&](Reporter& r, Diagnostics&) {
    readEnvelope(
        r, object, receiver.apiVersion, kind,
        {kSluiceNotificationApiVersion, kFluxNotificationApiVersion, kFluxNotificationApiVersionBeta2},
        {kReceiverKind}, meta, [&](ObjectReader& so) { readSpec(so, receiver.spec); },
        [](ObjectReader& o) { o.get("status"); });  // the controller's
  });
  if (!ok) return std::nullopt;
  receiver.name = std::move(meta.name);
  receiver.ns = std::move(meta.ns);
  receiver.generation = meta.generation;
  return receiver;
}

std::string webhookPath(const std::string& token, const std::string& name, const std::string& ns) {
  const std::string input = token + name + ns;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &n, EVP_sha256(), nullptr) != 1) return "";
  return kWebhookPathPrefix + hex(digest, n);
}

Result<std::string> tokenFromSecret(const json& secret) {
  const json data = secret.value("data", json::object());
  if (data.is_object() && data.contains("token") && data["token"].is_string()) {
    auto decoded = sluice::base64Decode(data["token"].get<std::string>());
    if (!decoded) return Error{"its key \"token\" is not valid base64"};
    if (decoded->empty()) return Error{"its key \"token\" is empty"};
    return *decoded;
  }
  const json stringData = secret.value("stringData", json::object());
  if (stringData.is_object() && stringData.contains("token") && stringData["token"].is_string() &&
      !stringData["token"].get<std::string>().empty())
    return stringData["token"].get<std::string>();
  return Error{"it has no key \"token\""};
}

bool hmacSignatureMatches(const std::string& signature, const std::string& key, const std::string& body) {
  const auto eq = signature.find('=');
  if (eq == std::string::npos) return false;
  const EVP_MD* md = digestNamed(lower(signature.substr(0, eq)));
  const auto given = unhex(signature.substr(eq + 1));
  if (!md || !given) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
            body.size(), mac, &n))
    return false;
  // The length is the algorithm's, public: only the bytes are secret.
  return given->size() == n && CRYPTO_memcmp(given->data(), mac, n) == 0;
}

DeliveryVerdict verifyDelivery(const ReceiverSpec& spec, const std::string& token, const HeaderLookup& header,
                               const std::string& body) {
  using Kind = DeliveryVerdict::Kind;
  DeliveryVerdict v;
  switch (spec.type) {
    case ReceiverType::GitHub: {
      std::string signature = header("X-Hub-Signature-256");
      if (!signature.empty() && lower(signature.substr(0, 7)) != "sha256=")
        return {Kind::Unauthorized, "", "X-Hub-Signature-256 is not sha256=<hex>"};
      if (signature.empty()) signature = header("X-Hub-Signature");
      if (signature.empty()) return {Kind::Unauthorized, "", "no X-Hub-Signature-256 header"};
      if (!hmacSignatureMatches(signature, token, body))
        return {Kind::Unauthorized, "", "the signature does not match the payload and the token"};
      v.event = header("X-GitHub-Event");
      if (v.event == "ping") return {Kind::Acknowledge, v.event, "pong"};
      break;
    }
    case ReceiverType::GitLab:
      if (!secretEquals(header("X-Gitlab-Token"), token))
        return {Kind::Unauthorized, "", "the X-Gitlab-Token header does not match the token"};
      v.event = header("X-Gitlab-Event");
      break;
    case ReceiverType::Generic:
      break;
    case ReceiverType::GenericHmac: {
      const std::string signature = header("X-Signature");
      if (signature.empty()) return {Kind::Unauthorized, "", "no X-Signature header"};
      if (!hmacSignatureMatches(signature, token, body))
        return {Kind::Unauthorized, "", "the signature does not match the payload and the token"};
      break;
    }
  }
  if ((spec.type == ReceiverType::GitHub || spec.type == ReceiverType::GitLab) &&
      !eventAccepted(spec, v.event))
    return {Kind::NotAccepted, v.event,
            std::string("the ") + typeName(spec.type) + " event '" + v.event +
                "' is not in this Receiver's spec.events"};
  v.kind = Kind::Reconcile;
  v.message = "verified";
  return v;
}

}  // namespace sluice::gitops
