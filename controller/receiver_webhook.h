// The Receivers' webhook endpoint (`sluice controller --webhook-addr`): a POST to a Receiver's
// status.webhookPath is verified against its type and token (gitops/receiver.h) and, when verified, sets
// `reconcile.sluice.dev/requestedAt` on each resource the Receiver lists, so their reconcile starts at once
// rather than at their interval. Anything unverified is answered 401 and changes nothing. Neither a body
// nor a token is ever logged.
#pragma once

#include <cstddef>
#include <string>

#include "base/clock.h"
#include "net/http_server.h"

namespace sluice::kube {
class Client;
class Informer;
}  // namespace sluice::kube

namespace sluice::controller {

class ReceiverWebhook {
 public:
  // Deliveries larger than this are refused (413) before they are read whole.
  static constexpr size_t kBodyLimit = size_t{1} << 20;

  // `receivers` is the informer of Receivers (looked up by status.webhookPath); the token Secret is read
  // from the API at each delivery, so a rotated token takes effect at once. Everything must outlive it.
  ReceiverWebhook(kube::Client& client, kube::Informer& receivers, const Clock& clock,
                  std::string fieldManager = "sluice-controller");
  ReceiverWebhook(const ReceiverWebhook&) = delete;
  ReceiverWebhook& operator=(const ReceiverWebhook&) = delete;

  // Answers one delivery: 405 unless POST; 404 for a path no Ready Receiver has (or one its current
  // token no longer gives); 503 while the Receiver is suspended; 401 unverified; 400 for an event the
  // Receiver does not accept, or when a listed resource could not be annotated (the others are); 200
  // otherwise. Blocks on the API calls. Thread-safe.
  net::HttpAnswer handle(const net::HttpRequest& request);

 private:
  kube::Client& client_;
  kube::Informer& receivers_;
  const Clock& clock_;
  std::string fieldManager_;
};

}  // namespace sluice::controller
