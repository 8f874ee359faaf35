// Server-side printing: the meta.k8s.io Table that `kubectl get` asks for (Accept: ...;as=Table), with the
// real server's column sets for the built-in kinds and a CRD version's additionalPrinterColumns.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"
#include "kube/apiserver/api_error.h"

namespace sluice::apiserver {

struct ResourceType;
struct HttpRequest;
struct Handled;
class Registry;

// What each row carries as `object` (the includeObject query parameter).
enum class IncludeObject { kNone, kMetadata, kObject };

struct TableOptions {
  std::string apiVersion = "meta.k8s.io/v1";  // or meta.k8s.io/v1beta1, as the client asked
  IncludeObject include = IncludeObject::kMetadata;
  bool noHeaders = false;  // leave out columnDefinitions (every watch event after the first)
};

// The Table version the Accept header asks for ("meta.k8s.io/v1" or "meta.k8s.io/v1beta1"), or nullopt when
// a plain representation comes first (application/json, */*) or no Table is asked for at all.
std::optional<std::string> acceptedTableVersion(std::string_view accept);

// Parses includeObject ("" means Metadata, the real server's default); 400 for any other value.
ApiResult<IncludeObject> parseIncludeObject(const std::string& value);

// The Table for `object`: a list ({items: [...]}, each a row; resourceVersion, continue and
// remainingItemCount carried over) or a single object (one row). Ages are relative to `now`. Pure.
nlohmann::json buildTable(const ResourceType& type, const nlohmann::json& object, const TableOptions& options,
                          Time now);

// Apiserver ages: "0s", "90s", "3m2s", "5h10m", "2d3h", "400d", "3y20d" (apimachinery's HumanDuration);
// "<invalid>" for more than a second in the future.
std::string humanDuration(Duration elapsed);

// Turns the objects of one watch stream into one-row Tables: column definitions in the first only, as the
// real server sends them. Status objects (ERROR events) pass through unchanged. Not thread-safe: one per
// stream, its calls serialized in the order the events are sent.
class WatchTableWriter {
 public:
  WatchTableWriter(std::shared_ptr<const ResourceType> type, TableOptions options);
  WatchTableWriter(const WatchTableWriter&) = delete;
  WatchTableWriter& operator=(const WatchTableWriter&) = delete;

  // `bookmark`: the object only carries a resourceVersion, so the Table has no row.
  nlohmann::json convert(const nlohmann::json& object, bool bookmark, Time now);

 private:
  std::shared_ptr<const ResourceType> type_;
  TableOptions options_;
};

// The one hook in the handler: when a GET on a resource asks for a Table, turns the list or object answer
// into one (through `registry` to find the object's type), or arms the watch to send Tables. Answers 400
// for a bad includeObject. Anything else is left as it is.
void presentAsTableIfAsked(const HttpRequest& request, const Registry& registry, Handled& handled);

}  // namespace sluice::apiserver
