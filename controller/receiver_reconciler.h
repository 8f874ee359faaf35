// The Receiver reconciler, as Flux's notification-controller: reads each Receiver's token Secret, derives
// the webhook path from it (gitops/receiver.h) and writes status.webhookPath with a Ready condition, in one
// patch and only when it changed. The deliveries themselves are served by ReceiverWebhook.
#pragma once

#include "controller/reconcile_outcome.h"

namespace sluice::kube {
class Client;
class Informer;
struct ResourceRef;
}  // namespace sluice::kube

namespace sluice::controller {

// sluice.dev/v1alpha1 receivers.
const kube::ResourceRef& receiversResource();

class ReceiverReconciler {
 public:
  // `receivers` is the informer of Receivers; the Secrets their spec.secretRef names are read from the
  // API at each pass (the controller watches no Secrets). Everything must outlive the reconciler.
  ReceiverReconciler(kube::Client& client, kube::Informer& receivers, const Clock& clock,
                     std::string fieldManager = "sluice-controller");
  ReceiverReconciler(const ReceiverReconciler&) = delete;
  ReceiverReconciler& operator=(const ReceiverReconciler&) = delete;

  // One pass over the Receiver "namespace/name". Done for a deleted, suspended or invalid one (an invalid
  // spec is marked Ready=False InvalidSpec and waits for a change); RequeueAfter(spec.interval) once
  // Ready, so a rotated token moves the path within the interval; RequeueAfter(a backoff up to the
  // interval) while its Secret or token is missing; Retry when the API refused a read or the status write.
  // Thread-safe.
  ReconcileOutcome reconcile(const std::string& key);

 private:
  kube::Client& client_;
  kube::Informer& receivers_;
  const Clock& clock_;
  std::string fieldManager_;
};

}  // namespace sluice::controller
