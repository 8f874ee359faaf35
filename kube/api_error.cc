// ApiError's message and its client-side constructor.
#include "kube/api_error.h"

#include <utility>

namespace sluice::kube {

ApiError ApiError::client(std::string message, std::string verb, std::string path) {
  ApiError e;
  e.kind = ApiErrorKind::kClient;
  e.message = std::move(message);
  e.verb = std::move(verb);
  e.path = std::move(path);
  return e;
}

std::string ApiError::describe() const {
  std::string out = verb + " " + path + ": ";
  if (kind == ApiErrorKind::kStatus) {
    out += std::to_string(code) + " " + (reason.empty() ? std::string("(no reason)") : reason) + ": ";
  }
  return out + message;
}

}  // namespace sluice::kube
