// .sourceignore and spec.ignore: .gitignore's pattern rules, file by file.
#include "gitops/source_ignore.h"

#include <catch2/catch.hpp>

using namespace sluice::gitops;

TEST_CASE("ignore rules follow .gitignore's pattern format", "[gitops][ignore]") {
  struct Row {
    const char* rules;
    const char* path;
    bool isDir;
    bool ignored;
  };
  const Row rows[] = {
      // a name without a slash matches at any depth
      {"*.md", "README.md", false, true},
      {"*.md", "docs/guide/intro.md", false, true},
      {"*.md", "docs/guide/intro.yaml", false, false},
      {"secret.yaml", "apps/web/secret.yaml", false, true},
      // a leading or inner slash anchors to the directory of the rules
      {"/secret.yaml", "secret.yaml", false, true},
      {"/secret.yaml", "apps/secret.yaml", false, false},
      {"docs/*.md", "docs/a.md", false, true},
      {"docs/*.md", "docs/sub/a.md", false, false},
      {"docs/*.md", "x/docs/a.md", false, false},
      // '*' and '?' stop at slashes; '**' crosses them
      {"a*", "abc", false, true},
      {"a?c", "abc", false, true},
      {"a?c", "a/c", false, false},
      {"**/tests", "x/y/tests", true, true},
      {"**/tests", "tests", true, true},
      {"docs/**", "docs/a/b/c.md", false, true},
      {"docs/**", "docs", true, false},
      {"a/**/b", "a/b", false, true},
      {"a/**/b", "a/x/y/b", false, true},
      // a trailing slash matches directories only, and everything inside them
      {"build/", "build", true, true},
      {"build/", "build", false, false},
      {"build/", "src/build/out.o", false, true},
      // negation: the last matching rule decides
      {"*.yaml\n!keep.yaml", "keep.yaml", false, false},
      {"*.yaml\n!keep.yaml", "drop.yaml", false, true},
      {"!keep.yaml\n*.yaml", "keep.yaml", false, true},
      // a file inside an excluded directory stays out, whatever a later rule says
      {"vendor/\n!vendor/keep.yaml", "vendor/keep.yaml", false, true},
      // character classes, comments, escapes, blank lines
      {"file[0-9].txt", "file7.txt", false, true},
      {"file[!0-9].txt", "file7.txt", false, false},
      {"# comment\n\n*.tmp", "a.tmp", false, true},
      {"\\#hash", "#hash", false, true},
      {"\\!bang", "!bang", false, true},
      {"*.tmp   ", "a.tmp", false, true},
  };
  for (const Row& row : rows) {
    INFO("rules: " << row.rules << "\npath: " << row.path << (row.isDir ? " (directory)" : ""));
    IgnoreRules rules;
    rules.add(row.rules);
    CHECK(rules.ignored(row.path, row.isDir) == row.ignored);
  }
}

TEST_CASE("a nested .sourceignore's rules apply below its own directory only", "[gitops][ignore]") {
  IgnoreRules rules;
  rules.add("*.txt\n/local.yaml\n", "apps/web");
  CHECK(rules.ignored("apps/web/notes.txt", false));
  CHECK(rules.ignored("apps/web/deep/notes.txt", false));
  CHECK_FALSE(rules.ignored("apps/notes.txt", false));
  CHECK_FALSE(rules.ignored("notes.txt", false));
  CHECK(rules.ignored("apps/web/local.yaml", false));
  CHECK_FALSE(rules.ignored("apps/web/deep/local.yaml", false));
  // Later rules (spec.ignore comes last) overrule earlier files.
  rules.add("!apps/web/keep.txt");
  CHECK_FALSE(rules.ignored("apps/web/keep.txt", false));
}

TEST_CASE("Flux's default exclusions keep VCS, CI and archive files out", "[gitops][ignore]") {
  IgnoreRules rules;
  rules.add(defaultSourceIgnore());
  for (const char* out : {".git", ".github", ".gitignore", "logo.png", "dist/release.tar.gz", ".travis.yml",
                          "apps/.sops.yaml", "x/y/.goreleaser.yml", ".flux.yaml", ".circleci"}) {
    INFO(out);
    const bool dir =
        std::string(out) == ".git" || std::string(out) == ".github" || std::string(out) == ".circleci";
    CHECK(rules.ignored(out, dir));
  }
  for (const char* in : {"apps/web/deployment.yaml", "kustomization.yaml", "README.md", ".sourceignore"}) {
    INFO(in);
    CHECK_FALSE(rules.ignored(in, false));
  }
}
