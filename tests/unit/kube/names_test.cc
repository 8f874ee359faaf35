// Names, label keys and values, annotations: apimachinery's validation tables (util/validation) and the
// exact messages the real server puts in its 422 responses.
#include <catch2/catch.hpp>

#include "kube/names.h"

using namespace sluice::kube;
using nlohmann::json;

TEST_CASE("DNS-1123 labels and subdomains accept and refuse what apimachinery does", "[kube][names]") {
  const std::string l63(63, 'a'), l64(64, 'a');
  for (const std::string good : {"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "0-1", "1-a"}) {
    INFO(good);
    CHECK(isDNS1123Label(good).empty());
    CHECK(isDNS1123Subdomain(good).empty());
  }
  CHECK(isDNS1123Label(l63).empty());
  for (const std::string bad : {"",    "A",  "ABC", "aBc", "A1",  "A-1", "1-A", "-",   "a-", "-a", "1-",
                                "-1",  "_",  "a_",  "_a",  "a_b", "1_",  "_1",  "1_2", ".",  "a.", ".a",
                                "a.b", "1.", ".1",  "1.2", " ",   "a ",  " a",  "a b", "1 ", " 1", "1 2"}) {
    INFO(bad);
    CHECK_FALSE(isDNS1123Label(bad).empty());
  }
  for (const std::string good : {"a.a", "ab.c", "a1.b-2", "0.a", "a--1--2--b.0", "example.com"}) {
    INFO(good);
    CHECK(isDNS1123Subdomain(good).empty());
  }
  for (const std::string bad : {"", "A", "a.", ".a", "a..b", "a_b", "a.-b", "a-.b", "Example.com", "a b"}) {
    INFO(bad);
    CHECK_FALSE(isDNS1123Subdomain(bad).empty());
  }
  CHECK(isDNS1123Label(l64) == std::vector<std::string>{"must be no more than 63 characters"});
  std::string sub253;
  while (sub253.size() < 253) sub253 += sub253.empty() ? "a" : ".a";
  CHECK(sub253.size() == 253);
  CHECK(isDNS1123Subdomain(sub253).empty());
  CHECK(isDNS1123Subdomain(sub253 + "a") == std::vector<std::string>{"must be no more than 253 characters"});
}

TEST_CASE("name errors carry the real server's wording", "[kube][names]") {
  CHECK(isDNS1123Subdomain("Foo") ==
        std::vector<std::string>{
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must "
            "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"});
  CHECK(isDNS1123Label("Foo") ==
        std::vector<std::string>{"a lowercase RFC 1123 label must consist of lower case alphanumeric "
                                 "characters or '-', and must start "
                                 "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
                                 "regex used for validation is "
                                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"});
  auto errs = validateObjectName("My_Rollout", false, "metadata.name");
  REQUIRE(errs.size() == 1);
  CHECK_THAT(
      errs[0].message(),
      Catch::StartsWith("metadata.name: Invalid value: \"My_Rollout\": a lowercase RFC 1123 subdomain"));
  CHECK(errs[0].reason == "FieldValueInvalid");
  auto ns = validateObjectName("a.b", true, "metadata.name");
  REQUIRE(ns.size() == 1);
  CHECK_THAT(ns[0].detail, Catch::Contains("RFC 1123 label"));
  auto empty = validateObjectName("", false, "metadata.name");
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].message() == "metadata.name: Required value: name or generateName is required");
  CHECK(validateObjectName("web-7d9f", false, "metadata.name").empty());
}

TEST_CASE("label keys are qualified names with an optional DNS prefix", "[kube][names]") {
  for (const std::string& good : std::vector<std::string>{
           "simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple",
           "now-with-dashes/simple", "now-with-dashes/now-with-dashes", "now.with.dots/simple",
           "now-with.dashes-and.dots/simple", "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678",
           "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123", "requests.storage-foo",
           std::string(63, 'a'), std::string(253, 'a') + "/" + std::string(63, 'b')}) {
    INFO(good);
    CHECK(isQualifiedName(good).empty());
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-",
                                "only/one/slash", "Example.com/abc", "example_com/abc", "example.com/",
                                "/simple", std::string(64, 'a'), std::string(254, 'a') + "/abc"}) {
    INFO(bad);
    CHECK_FALSE(isQualifiedName(bad).empty());
  }
  CHECK(isQualifiedName("/simple") == std::vector<std::string>{"prefix part must be non-empty"});
  auto tooMany = isQualifiedName("a/b/c");
  REQUIRE(tooMany.size() == 1);
  CHECK_THAT(tooMany[0], Catch::StartsWith("a qualified name must consist of alphanumeric characters"));
  CHECK_THAT(tooMany[0],
             Catch::EndsWith("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
  CHECK_THAT(isQualifiedName("Example.com/abc")[0],
             Catch::StartsWith("prefix part a lowercase RFC 1123 subdomain"));
}

TEST_CASE("label values are empty or short qualified-name parts", "[kube][names]") {
  for (const std::string& good :
       std::vector<std::string>{"", "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1",
                                "1234", "1.2.3.4", "Uppercase_Is_OK_123", std::string(63, 'a')}) {
    INFO(good);
    CHECK(isValidLabelValue(good).empty());
  }
  for (const std::string& bad :
       std::vector<std::string>{"nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun",
                                "\\backslashes\\are\\bad", "-starts-with-dash", "ends-with-dash-",
                                ".starts.with.dot", "ends.with.dot.", std::string(64, 'a')}) {
    INFO(bad);
    CHECK_FALSE(isValidLabelValue(bad).empty());
  }
}

TEST_CASE("labels and annotations maps are checked key by key, annotations by total size", "[kube][names]") {
  auto labels =
      validateLabels(json::parse(R"({"app":"web","bad key":"x","tier":"-front"})"), "metadata.labels");
  REQUIRE(labels.size() == 2);
  CHECK_THAT(labels[0].message(),
             Catch::StartsWith("metadata.labels: Invalid value: \"bad key\": name part must"));
  CHECK_THAT(labels[1].message(),
             Catch::StartsWith("metadata.labels[tier]: Invalid value: \"-front\": a valid label"));
  CHECK(validateLabels(json::parse(R"({"n":1})"), "metadata.labels").size() == 1);
  CHECK(validateLabels(json::parse(R"({"sluice.dev/revision":"3"})"), "metadata.labels").empty());

  // Annotation keys are checked lowercased, so uppercase prefixes pass, as on the real server.
  CHECK(validateAnnotations(json::parse(R"({"Example.COM/Note":"anything at all, spaces too"})"),
                            "metadata.annotations")
            .empty());
  json big = json::object();
  big["kubectl.kubernetes.io/last-applied-configuration"] = std::string(kTotalAnnotationSizeLimit, 'x');
  auto tooBig = validateAnnotations(big, "metadata.annotations");
  REQUIRE(tooBig.size() == 1);
  CHECK(tooBig[0].message() == "metadata.annotations: Too long: may not be more than 262144 bytes");
  big["kubectl.kubernetes.io/last-applied-configuration"] = std::string(
      kTotalAnnotationSizeLimit - std::string("kubectl.kubernetes.io/last-applied-configuration").size(),
      'x');
  CHECK(validateAnnotations(big, "metadata.annotations").empty());
}
