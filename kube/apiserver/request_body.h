// The object in a create or update request body, whatever its media type: JSON as sent, YAML (one
// document) as the JSON it denotes, or a
// Kubernetes protobuf body (the "k8s\0" prefix and a runtime.Unknown envelope around the typed
// message) turned into the very JSON object a JSON client would have sent for the same object.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

inline constexpr std::string_view kProtobufMediaType = "application/vnd.kubernetes.protobuf";

// The body as a JSON object, by its Content-Type (JSON when empty). Errors, as the real server words
// them where it has words: 415 for another media type, for a protobuf kind this server has no schema
// for, or for a protobuf field it does not decode; 400 for a malformed body or one that is not an object,
// and for one that nests deeper than kube::kMaxJsonNestingDepth (checked before anything is built, in
// every encoding). `kind` is the kind the request's URL names, for messages.
ApiResult<nlohmann::json> decodeObjectBody(std::string_view contentType, std::string_view body,
                                           std::string_view kind = "");

// A protobuf body alone (errors as above). Unknown field numbers in fully known messages are dropped,
// as the real server's protobuf decoding drops them, whatever fieldValidation asks.
ApiResult<nlohmann::json> decodeProtobufObject(std::string_view body);

}  // namespace sluice::apiserver
