// robot.cpp: a robot's decision loop against `plansentry serve`, in C++ (the example the test
// suite builds and runs). Plans ahead: asks for decision point n+1 while "executing" n, then
// decides it with its budget; also one decision through the OpenAI-compatible endpoint.
//
//   robot HOST PORT CONTEXT_JSON [DECISIONS] [BUDGET_MS]     (token: $PLANSENTRY_SERVE_TOKEN)
//
// One line per decision: `decision N source=... failure_mode=... on_time=... hop_ms=... plan=...`.
// Exit 0 if every decision came back, 1 if one did not (then a robot runs its own safe action).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "plansentry_client.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: robot HOST PORT CONTEXT_JSON [DECISIONS] [BUDGET_MS]\n");
    return 2;
  }
  const char* token = std::getenv("PLANSENTRY_SERVE_TOKEN");
  plansentry::Client client(argv[1], std::atoi(argv[2]), token ? token : "");
  std::string context = argv[3];
  int decisions = argc > 4 ? std::atoi(argv[4]) : 3;
  double budget_ms = argc > 5 ? std::atof(argv[5]) : 150.0;
  int failed = 0;
  std::string ticket = client.ask(context);  // plan ahead for the first decision point
  for (int n = 0; n < decisions; ++n) {
    // ... the robot executes its current plan here; then the decision point comes:
    plansentry::Decision d = client.decide(ticket, context, budget_ms);
    ticket = n + 1 < decisions ? client.ask(context) : "";  // plan ahead for the next one
    if (!d.ok()) {
      std::printf("decision %d failed status=%d error=%s -> safe action\n", n, d.status,
                  d.error.c_str());
      ++failed;
      continue;
    }
    std::printf("decision %d source=%s failure_mode=%s on_time=%d hop_ms=%.3f plan=%s\n", n,
                d.source.c_str(), d.failure_mode.empty() ? "none" : d.failure_mode.c_str(),
                d.on_time, d.hop_ms(), d.plan_json.c_str());
  }
  plansentry::Decision c = client.chat(context, budget_ms);
  if (c.ok()) {
    std::printf("chat source=%s plan=%s\n", c.source.c_str(), c.plan_json.c_str());
  } else {
    std::printf("chat failed status=%d error=%s\n", c.status, c.error.c_str());
    ++failed;
  }
  return failed ? 1 : 0;
}
