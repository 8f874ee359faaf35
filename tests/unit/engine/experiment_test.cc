// The Experiment state machine, driven through a small fake world, and its JSON: each case is one of Argo
// Rollouts' experiment rules, named after it.
#include <catch2/catch.hpp>

#include "base/pod_template_hash.h"
#include "engine/experiment.h"
#include "engine/experiment_json.h"

using namespace sluice;
using namespace sluice::engine;
using analysis::Phase;

namespace {

const Time kStart = timeFromUnix(1'800'000'000);

ExperimentTemplate experimentTemplate(const std::string& name, int replicas = 1) {
  ExperimentTemplate t;
  t.name = name;
  t.replicas = replicas;
  t.selector = {{"matchLabels", {{"app", "web"}, {"variant", name}}}};
  t.podTemplate = {{"metadata", {{"labels", {{"app", "web"}, {"variant", name}}}}},
                   {"spec", {{"containers", {{{"name", "web"}, {"image", "web:" + name}}}}}}};
  return t;
}

ExperimentAnalysis experimentAnalysis(const std::string& name, bool required = false) {
  ExperimentAnalysis a;
  a.name = name;
  a.templateName = name + "-template";
  a.requiredForCompletion = required;
  return a;
}

// Two templates (baseline, canary); callers add analyses and a duration.
Experiment twoTemplates() {
  Experiment ex;
  ex.metadata.name = "exp";
  ex.metadata.ns = "default";
  ex.spec.templates = {experimentTemplate("baseline"), experimentTemplate("canary", 2)};
  return ex;
}

// The Experiment's world: carries the actions out on the observed ReplicaSets and runs, and writes the
// status back, pass after pass, as the shell would.
struct ExperimentFakeWorld {
  Experiment experiment;
  ExperimentObserved observed;
  std::vector<Action> actions;  // every action carried out, in order
  std::optional<Duration> requeueAfter;
  std::map<std::string, CreateService> services;  // the Services in force, by name
  std::set<std::string> foreignNames;             // ReplicaSets of another owner: a create is refused

  explicit ExperimentFakeWorld(Experiment ex) : experiment(std::move(ex)) {}

  ReplicaSetView* replicaSet(const std::string& name) {
    for (auto& rs : observed.replicaSets) {
      if (rs.name == name) return &rs;
    }
    return nullptr;
  }
  AnalysisRunView* run(const std::string& name) {
    for (auto& r : observed.analysisRuns) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }

  void apply(const Action& action, Time now) {
    if (const auto* c = std::get_if<CreateReplicaSet>(&action)) {
      if (foreignNames.count(c->name)) {  // AlreadyExists, and not the Experiment's
        observed.foreignReplicaSetNames.insert(c->name);
        return;
      }
      ReplicaSetView rs;
      rs.name = c->name;
      rs.podTemplateHash = c->podTemplateHash;
      rs.specReplicas = c->replicas;
      rs.createdAt = now;
      observed.replicaSets.push_back(rs);
    } else if (const auto* s = std::get_if<ScaleReplicaSet>(&action)) {
      ReplicaSetView* rs = replicaSet(s->name);
      REQUIRE(rs);
      rs->specReplicas = s->replicas;
      if (s->deadlineChange == DeadlineChange::Set) rs->scaleDownDeadline = s->scaleDownDeadline;
      if (s->deadlineChange == DeadlineChange::Clear) rs->scaleDownDeadline.reset();
      // Pods go at once when scaled down.
      rs->replicas = std::min(rs->replicas, rs->specReplicas);
      rs->readyReplicas = std::min(rs->readyReplicas, rs->specReplicas);
      rs->availableReplicas = std::min(rs->availableReplicas, rs->specReplicas);
    } else if (const auto* r = std::get_if<CreateAnalysisRun>(&action)) {
      AnalysisRunView run;
      run.name = r->name;
      run.createdAt = now;
      observed.analysisRuns.push_back(run);
    } else if (const auto* cs = std::get_if<CreateService>(&action)) {
      services[cs->name] = *cs;
    } else if (const auto* ds = std::get_if<DeleteService>(&action)) {
      REQUIRE(services.erase(ds->name) == 1);
    } else if (const auto* t = std::get_if<TerminateAnalysisRun>(&action)) {
      AnalysisRunView* run = this->run(t->name);
      REQUIRE(run);
      run->terminated = true;
    }
  }

  // Passes at `now` until one changes nothing.
  void settle(Time now) {
    for (int pass = 0; pass < 20; ++pass) {
      ExperimentDecision d = reconcileExperiment(experiment, observed, now);
      requeueAfter = d.requeueAfter;
      bool changed = d.status != experiment.status;
      for (const auto& a : d.actions) {
        if (!std::holds_alternative<EmitEvent>(a)) changed = true;
        apply(a, now);
        actions.push_back(a);
      }
      experiment.status = std::move(d.status);
      if (!changed) return;
    }
    FAIL("the Experiment did not settle");
  }

  // Every pod of every ReplicaSet is up and available.
  void podsReady() {
    for (auto& rs : observed.replicaSets) {
      rs.replicas = rs.readyReplicas = rs.availableReplicas = rs.specReplicas;
    }
  }
  void runPhase(const std::string& name, Phase phase, std::string message = "") {
    AnalysisRunView* r = run(name);
    REQUIRE(r);
    r->phase = phase;
    r->message = std::move(message);
  }
  const TemplateStatus& templateStatus(const std::string& name) const {
    const TemplateStatus* ts = experiment.status.templateStatus(name);
    REQUIRE(ts);
    return *ts;
  }
  template <typename T>
  std::vector<T> actionsOf() const {
    std::vector<T> out;
    for (const auto& a : actions) {
      if (const auto* t = std::get_if<T>(&a)) out.push_back(*t);
    }
    return out;
  }
};

// An Experiment whose templates are all available at kStart, so it is Running.
ExperimentFakeWorld running(Experiment ex) {
  ExperimentFakeWorld w(std::move(ex));
  w.settle(kStart);
  w.podsReady();
  w.settle(kStart);
  REQUIRE(w.experiment.status.phase == Phase::Running);
  return w;
}

}  // namespace

TEST_CASE("an Experiment creates one ReplicaSet per template named after it", "[experiment]") {
  ExperimentFakeWorld w(twoTemplates());
  w.settle(kStart);
  const auto created = w.actionsOf<CreateReplicaSet>();
  REQUIRE(created.size() == 2);
  CHECK(created[0].name == "exp-baseline");
  CHECK(created[0].replicas == 1);
  CHECK(created[1].name == "exp-canary");
  CHECK(created[1].replicas == 2);
  // The pods and the selector carry the template's hash, computed as for a Rollout's template.
  const ExperimentTemplate& canary = w.experiment.spec.templates[1];
  CHECK(created[1].podTemplateHash == podTemplateHash(canary.podTemplate));
  CHECK(created[1].podTemplate["metadata"]["labels"][kPodTemplateHashLabel] == created[1].podTemplateHash);
  CHECK(created[1].selector["matchLabels"][kPodTemplateHashLabel] == created[1].podTemplateHash);
  CHECK(created[1].selector["matchLabels"]["variant"] == "canary");
  CHECK(w.experiment.status.phase == Phase::Pending);
  CHECK(w.templateStatus("canary").status == kTemplateProgressing);
  CHECK_FALSE(w.experiment.status.availableAt);
}

TEST_CASE("an Experiment is Running with availableAt once every template is available", "[experiment]") {
  ExperimentFakeWorld w(twoTemplates());
  w.settle(kStart);
  w.replicaSet("exp-baseline")->availableReplicas = 1;
  w.settle(kStart + Duration{5});
  CHECK(w.experiment.status.phase == Phase::Pending);
  CHECK(w.templateStatus("baseline").status == kTemplateRunning);
  CHECK(w.templateStatus("canary").status == kTemplateProgressing);
  w.podsReady();
  w.settle(kStart + Duration{9});
  CHECK(w.experiment.status.phase == Phase::Running);
  CHECK(w.experiment.status.availableAt == kStart + Duration{9});
  CHECK(w.templateStatus("canary").availableReplicas == 2);
  const Condition* progressing = nullptr;
  for (const auto& c : w.experiment.status.conditions) {
    if (c.type == "Progressing") progressing = &c;
  }
  REQUIRE(progressing);
  CHECK(progressing->reason == "NewReplicaSetAvailable");
}

TEST_CASE("an Experiment starts its analyses once available with the templates' hashes in their args",
          "[experiment]") {
  Experiment ex = twoTemplates();
  ExperimentAnalysis a = experimentAnalysis("compare");
  a.args = {{"baseline-hash", "{{templates.baseline.podTemplateHash}}", {}, {}},
            {"canary-rs", "{{templates.canary.replicaset.name}}", {}, {}},
            {"other", "{{args.kept}}", {}, {}}};
  ex.spec.analyses = {a};
  ex.spec.dryRun = {"latency"};
  ExperimentFakeWorld w(ex);
  w.settle(kStart);
  CHECK(w.actionsOf<CreateAnalysisRun>().empty());
  w.podsReady();
  w.settle(kStart + Duration{3});
  const auto runs = w.actionsOf<CreateAnalysisRun>();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].name == "exp-compare");
  REQUIRE(runs[0].analysis.templates.size() == 1);
  CHECK(runs[0].analysis.templates[0].templateName == "compare-template");
  REQUIRE(runs[0].analysis.args.size() == 3);
  CHECK(runs[0].analysis.args[0].value == w.replicaSet("exp-baseline")->podTemplateHash);
  CHECK(runs[0].analysis.args[1].value == "exp-canary");
  CHECK(runs[0].analysis.args[2].value == "{{args.kept}}");
  CHECK(runs[0].analysis.dryRun == std::vector<std::string>{"latency"});
  const ExperimentAnalysisRunStatus* status = w.experiment.status.analysisRun("compare");
  REQUIRE(status);
  CHECK(status->analysisRun == "exp-compare");
  CHECK(status->phase == Phase::Pending);
}

TEST_CASE("an Experiment with a duration ends Successful and scales down after scaleDownDelaySeconds",
          "[experiment]") {
  Experiment ex = twoTemplates();
  ex.spec.duration = Duration{60};
  ex.spec.analyses = {experimentAnalysis("compare")};
  ExperimentFakeWorld w = running(ex);
  w.runPhase("exp-compare", Phase::Running);
  w.settle(kStart + Duration{30});
  CHECK(w.experiment.status.phase == Phase::Running);
  CHECK(w.requeueAfter == Duration{30});  // the end of the duration

  w.settle(kStart + Duration{60});
  CHECK(w.experiment.status.phase == Phase::Successful);
  CHECK(w.templateStatus("baseline").status == kTemplateSuccessful);
  // The running analysis is terminated, the ReplicaSets keep their pods for the delay.
  REQUIRE(w.actionsOf<TerminateAnalysisRun>().size() == 1);
  CHECK(w.replicaSet("exp-canary")->specReplicas == 2);
  CHECK(w.replicaSet("exp-canary")->scaleDownDeadline == kStart + Duration{90});
  CHECK(w.requeueAfter == Duration{30});

  w.settle(kStart + Duration{89});
  CHECK(w.replicaSet("exp-canary")->specReplicas == 2);
  w.settle(kStart + Duration{90});
  CHECK(w.replicaSet("exp-baseline")->specReplicas == 0);
  CHECK(w.replicaSet("exp-canary")->specReplicas == 0);
  CHECK(w.experiment.status.phase == Phase::Successful);
  CHECK_FALSE(w.requeueAfter);
}

TEST_CASE("an Experiment takes the worst phase of a run that fails or is inconclusive", "[experiment]") {
  struct Row {
    Phase run;
    Phase experiment;
  };
  for (const Row row : {Row{Phase::Failed, Phase::Failed}, Row{Phase::Error, Phase::Error},
                        Row{Phase::Inconclusive, Phase::Inconclusive}}) {
    CAPTURE(analysis::phaseName(row.run));
    Experiment ex = twoTemplates();
    ex.spec.analyses = {experimentAnalysis("compare"), experimentAnalysis("smoke")};
    ExperimentFakeWorld w = running(ex);
    w.runPhase("exp-smoke", Phase::Running);
    w.runPhase("exp-compare", row.run, "metric \"errors\" assessed " + std::string(phaseName(row.run)));
    w.settle(kStart + Duration{10});
    CHECK(w.experiment.status.phase == row.experiment);
    CHECK(w.experiment.status.message == "metric \"errors\" assessed " + std::string(phaseName(row.run)));
    // The other run is terminated and the templates wind down.
    const auto terminated = w.actionsOf<TerminateAnalysisRun>();
    REQUIRE(terminated.size() == 1);
    CHECK(terminated[0].name == "exp-smoke");
    CHECK(w.templateStatus("canary").status == kTemplateSuccessful);
    w.settle(kStart + Duration{40});
    CHECK(w.replicaSet("exp-canary")->specReplicas == 0);
    CHECK(w.experiment.status.phase == row.experiment);
  }
}

TEST_CASE("an Experiment without a duration ends when its required analyses are Successful", "[experiment]") {
  Experiment ex = twoTemplates();
  ex.spec.analyses = {experimentAnalysis("compare", true), experimentAnalysis("watch")};
  ExperimentFakeWorld w = running(ex);
  w.runPhase("exp-compare", Phase::Running);
  w.runPhase("exp-watch", Phase::Running);
  w.settle(kStart + Duration{600});
  CHECK(w.experiment.status.phase == Phase::Running);
  w.runPhase("exp-compare", Phase::Successful);
  w.settle(kStart + Duration{700});
  // The other run is asked to stop; its own end (a terminated run is Successful) settles the Experiment.
  REQUIRE(w.actionsOf<TerminateAnalysisRun>().size() == 1);
  CHECK(w.actionsOf<TerminateAnalysisRun>()[0].name == "exp-watch");
  w.runPhase("exp-watch", Phase::Successful, "Run Terminated");
  w.settle(kStart + Duration{701});
  CHECK(w.experiment.status.phase == Phase::Successful);
  CHECK(w.experiment.status.message == "Required AnalysisRuns completed");
}

TEST_CASE("an Experiment without a duration or required analyses runs until terminated", "[experiment]") {
  Experiment ex = twoTemplates();
  ex.spec.analyses = {experimentAnalysis("compare")};
  ExperimentFakeWorld w = running(ex);
  w.runPhase("exp-compare", Phase::Successful);
  w.settle(kStart + Duration{3600});
  CHECK(w.experiment.status.phase == Phase::Running);
  CHECK(w.replicaSet("exp-canary")->specReplicas == 2);

  w.experiment.spec.terminate = true;
  w.settle(kStart + Duration{3601});
  CHECK(w.experiment.status.phase == Phase::Successful);
  CHECK(w.templateStatus("baseline").status == kTemplateSuccessful);
  CHECK(w.replicaSet("exp-canary")->scaleDownDeadline == kStart + Duration{3631});
}

TEST_CASE("an Experiment whose template makes no progress fails at its progress deadline", "[experiment]") {
  Experiment ex = twoTemplates();
  ex.spec.progressDeadlineSeconds = 120;
  ExperimentFakeWorld w(ex);
  w.settle(kStart);
  w.replicaSet("exp-baseline")->availableReplicas = 1;
  w.settle(kStart + Duration{10});
  CHECK(w.requeueAfter == Duration{111});  // just past the canary's deadline, counted from its creation
  w.settle(kStart + Duration{120});
  CHECK(w.experiment.status.phase == Phase::Pending);
  w.settle(kStart + Duration{121});
  CHECK(w.experiment.status.phase == Phase::Failed);
  CHECK(w.experiment.status.message == "Template 'canary' exceeded its progressDeadlineSeconds (120)");
  CHECK(w.templateStatus("canary").status == kTemplateFailed);
  // The other template ends with it; its pods go after the delay.
  CHECK(w.templateStatus("baseline").status == kTemplateSuccessful);
  w.settle(kStart + Duration{151});
  CHECK(w.replicaSet("exp-baseline")->specReplicas == 0);
}

TEST_CASE("a finished Experiment with scaleDownDelaySeconds 0 scales its templates down at once",
          "[experiment]") {
  Experiment ex = twoTemplates();
  ex.spec.duration = Duration{10};
  ex.spec.scaleDownDelaySeconds = 0;
  ExperimentFakeWorld w = running(ex);
  w.settle(kStart + Duration{10});
  CHECK(w.experiment.status.phase == Phase::Successful);
  CHECK(w.replicaSet("exp-baseline")->specReplicas == 0);
  CHECK_FALSE(w.replicaSet("exp-baseline")->scaleDownDeadline);
}

TEST_CASE("a template's service selects its pods while it runs and goes when they are gone", "[experiment]") {
  Experiment ex = twoTemplates();
  ex.spec.templates[1].service = ExperimentService{};
  ex.spec.templates[1].podTemplate["spec"]["containers"][0]["ports"] = {
      {{"name", "http"}, {"containerPort", 8080}}};
  ex.spec.duration = Duration{60};
  ExperimentFakeWorld w = running(ex);
  REQUIRE(w.services.count("exp-canary") == 1);
  const CreateService& svc = w.services.at("exp-canary");
  CHECK(svc.podTemplateHash == w.replicaSet("exp-canary")->podTemplateHash);
  CHECK(svc.ports == nlohmann::json::array(
                         {{{"name", "http"}, {"protocol", "TCP"}, {"port", 8080}, {"targetPort", 8080}}}));
  CHECK(w.templateStatus("canary").serviceName == "exp-canary");
  CHECK(w.services.count("exp-baseline") == 0);  // no service asked for
  // Done, scaled down after the delay: the Service goes with the pods.
  w.settle(kStart + Duration{60});
  CHECK(w.services.count("exp-canary") == 1);
  w.settle(kStart + Duration{90});
  CHECK(w.services.empty());
  CHECK(w.templateStatus("canary").serviceName.empty());
}

TEST_CASE("a template's service with ports of its own is made on those ports, read and written as given",
          "[experiment]") {
  Diagnostics diags;
  auto parsed = parseExperiment(nlohmann::json::parse(R"({"apiVersion": "argoproj.io/v1alpha1",
    "kind": "Experiment", "metadata": {"name": "exp", "namespace": "shop"},
    "spec": {"duration": "1m", "templates": [{"name": "canary", "replicas": 1,
      "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:2",
        "ports": [{"containerPort": 8080}]}]}},
      "service": {"name": "with-ports", "ports": [{"port": 80, "targetPort": 8080}, {"port": 81, "targetPort": 8081}]}}]}})"),
                                SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(parsed);
  CHECK(diags.empty());
  const nlohmann::json ports =
      nlohmann::json::parse(R"([{"port": 80, "targetPort": 8080}, {"port": 81, "targetPort": 8081}])");
  REQUIRE(parsed->spec.templates[0].service);
  CHECK(parsed->spec.templates[0].service->ports == ports);
  ExperimentFakeWorld w = running(*parsed);
  REQUIRE(w.services.count("with-ports") == 1);
  CHECK(w.services.at("with-ports").ports == ports);  // not the container's 8080

  Diagnostics bad;
  CHECK_FALSE(
      parseExperiment(nlohmann::json::parse(R"({"apiVersion": "sluice.dev/v1alpha1", "kind": "Experiment",
    "metadata": {"name": "exp"}, "spec": {"templates": [{"name": "c", "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "w"}]}},
      "service": {"ports": [{"targetPort": 8080}]}}]}})"),
                      SourceMap(), bad));
  CHECK_THAT(bad.format(), Catch::Contains("spec.templates[0].service.ports[0].port: is required"));
}

TEST_CASE("an Experiment reads Argo's manifest and writes its status back as it read it", "[experiment]") {
  const nlohmann::json manifest = nlohmann::json::parse(R"({
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment",
    "metadata": {"name": "example-experiment", "namespace": "default"},
    "spec": {
      "duration": "20m",
      "progressDeadlineSeconds": 30,
      "templates": [
        {"name": "purple", "selector": {"matchLabels": {"app": "rollouts-demo"}},
         "template": {"metadata": {"labels": {"app": "rollouts-demo"}},
                      "spec": {"containers": [{"name": "rollouts-demo", "image": "argoproj/rollouts-demo:purple"}]}}},
        {"name": "orange", "replicas": 2, "minReadySeconds": 5,
         "selector": {"matchLabels": {"app": "rollouts-demo"}},
         "template": {"metadata": {"labels": {"app": "rollouts-demo"}},
                      "spec": {"containers": [{"name": "rollouts-demo", "image": "argoproj/rollouts-demo:orange"}]}}}
      ],
      "analyses": [
        {"name": "purple", "templateName": "http-benchmark", "requiredForCompletion": true,
         "args": [{"name": "host", "value": "purple"}]}
      ],
      "analysisRunMetadata": {"labels": {"team": "web"}}
    }
  })");
  Diagnostics diags;
  auto ex = parseExperiment(manifest, SourceMap(), diags);
  INFO(diags.format());
  REQUIRE(ex);
  CHECK(ex->spec.duration == Duration{1200});
  CHECK(ex->spec.progressDeadlineSeconds == 30);
  CHECK(ex->spec.scaleDownDelaySeconds == 30);
  REQUIRE(ex->spec.templates.size() == 2);
  CHECK(ex->spec.templates[0].replicas == 1);
  CHECK(ex->spec.templates[1].replicas == 2);
  CHECK(ex->spec.templates[1].minReadySeconds == 5);
  REQUIRE(ex->spec.analyses.size() == 1);
  CHECK(ex->spec.analyses[0].requiredForCompletion);
  CHECK(ex->spec.analyses[0].args[0].value == "purple");
  CHECK(ex->spec.runLabels.at("team") == "web");

  ExperimentFakeWorld w = running(*ex);
  const nlohmann::json status = experimentStatusToJson(w.experiment.status);
  CHECK(status["phase"] == "Running");
  CHECK(status["templateStatuses"][1]["availableReplicas"] == 2);
  CHECK(status["analysisRuns"][0]["analysisRun"] == "example-experiment-purple");
  auto back = experimentStatusFromJson(status);
  REQUIRE(back);
  CHECK(*back == w.experiment.status);
}

TEST_CASE("an Experiment's manifest errors name the field", "[experiment]") {
  struct Row {
    const char* what;
    const char* spec;
    const char* path;
  };
  const Row rows[] = {
      {"a repeated template name",
       R"({"templates": [{"name": "a", "selector": {"matchLabels": {"x": "1"}}, "template": {"metadata": {"labels": {"x": "1"}}}},
                         {"name": "a", "selector": {"matchLabels": {"x": "1"}}, "template": {"metadata": {"labels": {"x": "1"}}}}]})",
       "spec.templates[1].name"},
      {"a selector that misses the pod labels",
       R"({"templates": [{"name": "a", "selector": {"matchLabels": {"x": "2"}}, "template": {"metadata": {"labels": {"x": "1"}}}}]})",
       "spec.templates[0].selector.matchLabels.x"},
      {"no templates", R"({"templates": []})", "spec.templates"},
      {"a resource amount that is not a quantity (Argo's malformed-experiment)",
       R"({"templates": [{"name": "a", "selector": {"matchLabels": {"x": "1"}}, "template": {"metadata": {"labels": {"x": "1"}},
           "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"memory": "invalid"}}}]}}}]})",
       "spec.templates[0].template.spec.containers[0].resources.requests.memory"},
      {"a template with no container",
       R"({"templates": [{"name": "a", "selector": {"matchLabels": {"x": "1"}}, "template": {"metadata": {"labels": {"x": "1"}}, "spec": {}}}]})",
       "spec.templates[0].template.spec.containers"},
      {"podTemplateHashValue in an analysis arg",
       R"({"templates": [{"name": "a", "selector": {"matchLabels": {"x": "1"}}, "template": {"metadata": {"labels": {"x": "1"}}}}],
           "analyses": [{"name": "b", "templateName": "t", "args": [{"name": "h", "valueFrom": {"podTemplateHashValue": "Latest"}}]}]})",
       "spec.analyses[0].args[0].valueFrom.podTemplateHashValue"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    nlohmann::json manifest = {
        {"apiVersion", "sluice.dev/v1alpha1"}, {"kind", "Experiment"}, {"metadata", {{"name", "e"}}}};
    manifest["spec"] = nlohmann::json::parse(row.spec);
    Diagnostics diags;
    CHECK_FALSE(parseExperiment(manifest, SourceMap(), diags));
    bool found = false;
    for (const auto& d : diags.items())
      found = found || (d.severity == Severity::Error && d.path == row.path);
    INFO(diags.format());
    CHECK(found);
  }
}

TEST_CASE(
    "a template whose ReplicaSet name another owner holds is in Error naming it and that ReplicaSet "
    "is never touched",
    "[experiment]") {
  ExperimentFakeWorld w(twoTemplates());
  w.experiment.spec.scaleDownDelaySeconds = 0;
  w.foreignNames.insert("exp-canary");
  w.settle(kStart);
  const TemplateStatus& canary = w.templateStatus("canary");
  CHECK(canary.status == kTemplateError);
  CHECK(canary.message == "ReplicaSet \"exp-canary\" exists and is not controlled by Experiment \"exp\"");
  // The hash stays as it was: another one would not free the name.
  CHECK_FALSE(canary.collisionCount);
  CHECK(w.experiment.status.phase == Phase::Error);
  CHECK(w.experiment.status.message == canary.message);
  // One create was tried; nothing else was asked of that name. The other template winds down.
  int creates = 0;
  for (const auto& c : w.actionsOf<CreateReplicaSet>()) creates += c.name == "exp-canary";
  CHECK(creates == 1);
  for (const auto& s : w.actionsOf<ScaleReplicaSet>()) CHECK(s.name != "exp-canary");
  REQUIRE(w.replicaSet("exp-baseline"));
  CHECK(w.replicaSet("exp-baseline")->specReplicas == 0);
  bool warned = false;
  for (const auto& e : w.actionsOf<EmitEvent>()) {
    warned = warned || (e.type == "Warning" && e.reason == "TemplateError" &&
                        e.message.find("\"exp-canary\" exists") != std::string::npos);
  }
  CHECK(warned);

  // Later reconciles (a new world remembers no refused create) leave the Error as it is and try no create.
  w.observed.foreignReplicaSetNames.clear();
  const std::size_t before = w.actions.size();
  w.settle(kStart + Duration{60});
  CHECK(w.templateStatus("canary").status == kTemplateError);
  for (std::size_t i = before; i < w.actions.size(); ++i)
    CHECK_FALSE(std::holds_alternative<CreateReplicaSet>(w.actions[i]));
}
