// The Receiver kind, Flux's notification-controller webhook receiver: its spec read and validated from
// JSON, the webhook path it is served at, and the checks that a delivery came from whoever holds its token.
// Field names, conditions and reasons are Flux's, so a Flux manifest loads by changing only its apiVersion.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/diagnostics.h"
#include "base/result.h"
#include "base/source.h"
#include "base/time.h"

namespace sluice::gitops {

inline constexpr const char* kReceiverKind = "Receiver";
inline constexpr const char* kSluiceNotificationApiVersion = "sluice.dev/v1alpha1";
// Flux's versions of the kind, which the loader reads unchanged.
inline constexpr const char* kFluxNotificationApiVersion = "notification.toolkit.fluxcd.io/v1";
inline constexpr const char* kFluxNotificationApiVersionBeta2 = "notification.toolkit.fluxcd.io/v1beta2";
// Every webhook path starts with it, as Flux's.
inline constexpr const char* kWebhookPathPrefix = "/hook/";

enum class ReceiverType { GitHub, GitLab, Generic, GenericHmac };

// A resource a verified delivery asks to reconcile now (Flux's CrossNamespaceObjectReference).
struct ReceiverResource {
  std::string apiVersion;  // optional; the kind alone selects the resource
  std::string kind;        // GitRepository or Kustomization
  std::string name;        // "*": every one of the kind in the namespace that matchLabels selects
  std::string ns;          // the Receiver's own when empty
  std::map<std::string, std::string> matchLabels;  // only with name "*"
};

struct ReceiverSpec {
  ReceiverType type = ReceiverType::Generic;
  std::vector<std::string> events;  // the accepted X-GitHub-Event / X-Gitlab-Event values; empty: all
  std::vector<ReceiverResource> resources;
  std::string secretRefName;                    // the Secret holding the `token` key
  Duration interval{std::chrono::minutes(10)};  // how often the Secret is read again, as Flux's default
  bool suspend = false;
};

struct Receiver {
  std::string apiVersion;
  std::string name;
  std::string ns;
  int64_t generation = 0;
  ReceiverSpec spec;
};

// Reads and validates a Receiver (apiVersion sluice.dev/v1alpha1 or Flux's). Every problem goes to `diags`
// at its field path (`spec.resources[0].kind`); nullopt when there is an error. Never throws.
std::optional<Receiver> parseReceiver(const nlohmann::json& object, const SourceMap& source,
                                      Diagnostics& diags);

// "/hook/" + the hex SHA-256 of token + name + namespace, as Flux computes it: a path nobody can guess
// without the token, and different for each Receiver sharing one.
std::string webhookPath(const std::string& token, const std::string& name, const std::string& ns);

// The `token` of the Receiver's Secret object (its base64 `data`, or `stringData`): an error a person can
// act on when the key is missing or empty.
Result<std::string> tokenFromSecret(const nlohmann::json& secret);

// ---- deliveries ---------------------------------------------------------------------------------

// What a delivery asks for once checked against the Receiver's type and token.
struct DeliveryVerdict {
  enum class Kind {
    Reconcile,     // verified: annotate the resources
    Acknowledge,   // verified, nothing to do (GitHub's ping): 200
    Unauthorized,  // the signature or token is missing or wrong: 401, nothing changes
    NotAccepted,   // verified, but an event the Receiver does not list: 400, nothing changes
  };
  Kind kind = Kind::Unauthorized;
  std::string event;    // the sender's event name, when it sent one
  std::string message;  // why, for the answer and the log; never the token or the body
};

// A delivery's header by name (any case), "" when absent.
using HeaderLookup = std::function<std::string(const std::string& name)>;

// Checks a delivery of `body` to a Receiver of `spec` whose Secret holds `token`: github by the HMAC
// SHA-256 in X-Hub-Signature-256 (X-Hub-Signature's SHA-1 when only it is sent, as GitHub's libraries);
// gitlab by X-Gitlab-Token; generic by the path alone; generic-hmac by X-Signature "<algo>=<hex>" with
// sha1, sha256 or sha512. Every comparison takes constant time.
DeliveryVerdict verifyDelivery(const ReceiverSpec& spec, const std::string& token, const HeaderLookup& header,
                               const std::string& body);

// "<algo>=<hex>": whether `signature` is the HMAC of `body` under `key` with `algo` (sha1, sha256, sha512),
// compared in constant time. False for an unknown algorithm or hex that does not decode.
bool hmacSignatureMatches(const std::string& signature, const std::string& key, const std::string& body);

// ---- status -------------------------------------------------------------------------------------

namespace receiver_reason {
inline constexpr const char* kSucceeded = "Succeeded";
inline constexpr const char* kTokenNotFound = "TokenNotFound";
inline constexpr const char* kProgressingWithRetry = "ProgressingWithRetry";
// Not Flux's (its API server refuses such a spec before a controller sees it): the spec does not validate.
inline constexpr const char* kInvalidSpec = "InvalidSpec";
}  // namespace receiver_reason

}  // namespace sluice::gitops
