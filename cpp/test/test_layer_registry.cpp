// The network built from a layer list: today's MLP through the registry, and the specs the core
// refuses (std::invalid_argument naming the layer and what is wrong).
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "mlp.hpp"
#include "network.hpp"
#include "refusal.hpp"

using namespace deepr;
using deepr_test::refusal;

namespace {

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(registry_builds_the_mlp_from_a_layer_list) {
  const NetworkSpec spec = deepr_test::mlp_spec({20, 16, 12, 4}, {40, 60, 24}, true, false, false, GlobalShare::kByBudget, 3);
  Network net(spec);
  const std::vector<std::string> kinds{"sparse_linear", "relu", "sparse_linear", "relu", "sparse_linear", "softmax_cross_entropy"};
  CHECK(net.layers().size() == kinds.size());
  for (size_t i = 0; i < kinds.size() && i < net.layers().size(); ++i) {
    const Layer& layer = *net.layers()[i];
    CHECK(layer.kind() == kinds[i]);
    CHECK(net.layers()[i]->stores().size() == (i % 2 == 0 && i < 5 ? 2u : 0u));  // weight and bias
  }
  CHECK(net.input_size() == 20 && net.classes() == 4);
  // Sparse store n is the weight of linear layer n, with id n (its random streams), its budget active.
  const std::vector<uint32_t> widths{20, 16, 12, 4};
  const std::vector<uint64_t> budgets{40, 60, 24};
  CHECK(net.sparse_stores().size() == 3);
  for (uint32_t n = 0; n < net.sparse_stores().size(); ++n) {
    const SparseStore& w = *net.sparse_stores()[n];
    CHECK(w.id == n && w.n_in == widths[n] && w.n_out == widths[n + 1] && w.budget == budgets[n] && w.active() == budgets[n]);
    CHECK(w.states.empty());  // SGD keeps no state
  }
  CHECK(net.check().empty());
  // The same spec builds the same network, bit for bit.
  Network again(spec);
  for (size_t n = 0; n < 3; ++n)
    CHECK(again.sparse_stores()[n]->source == net.sparse_stores()[n]->source &&
          again.sparse_stores()[n]->theta == net.sparse_stores()[n]->theta);
  // With momentum every store keeps a velocity, at zero.
  Network with_momentum(deepr_test::mlp_spec({20, 16, 12, 4}, {40, 60, 24}, true, true, false, GlobalShare::kByBudget, 3));
  for (const std::unique_ptr<Layer>& layer : with_momentum.layers())
    for (const StoreRef& s : layer->stores()) {
      const StateArrays& states = s.sparse ? s.sparse->states : s.dense->states;
      CHECK(states.size() == 1 && states[0].name == "velocity");
      CHECK(states.size() == 1 && states[0].values == std::vector<float>(s.sparse ? s.sparse->active() : s.dense->value.size(), 0.0f));
    }
}

TEST(registry_refuses_bad_specs_naming_what_is_wrong) {
  const NetworkSpec good = deepr_test::mlp_spec({6, 5, 3}, {10, 8}, false, false, false, GlobalShare::kByBudget, 1);
  CHECK(refusal(good).empty());
  const auto edited = [&](auto edit) {
    NetworkSpec spec = good;
    edit(spec);
    return refusal(spec);
  };
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[0].kind = "conv3d"; }), "layer 0 (conv3d): not a layer kind of the core (it knows sparse_linear, relu, softmax_cross_entropy, "));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[0].numbers.erase("budget"); }), "layer 0 (sparse_linear): budget (a number) is missing"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[0].booleans.erase("bias"); }), "bias (a boolean) is missing"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[0].numbers["stride"] = 2; }), "stride is not a field of this kind"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[1].numbers["size"] = 5; }), "layer 1 (relu): size is not a field of this kind"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[0].numbers["budget"] = 31; }), "layer 0 (sparse_linear): budget must be an integer in [1, 30], got 31"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[0].numbers["outputs"] = 2.5; }), "outputs must be an integer in [1, 2147483647], got 2.5"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[2].numbers["inputs"] = 4; }), "layer 2 (sparse_linear): inputs is 4, but the layer below gives 5"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers.pop_back(); }), "the last layer (sparse_linear) is not a loss head"));
  CHECK(mentions(edited([](NetworkSpec& s) { std::swap(s.layers[2], s.layers[3]); }), "is a loss head but not the last layer"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers.erase(s.layers.begin()); }), "layer 0 (relu): a relu needs a layer below it"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers[2].numbers["outputs"] = 1; s.layers[2].numbers["budget"] = 1; }),
                 "the loss head needs a layer below it with at least 2 outputs"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.layers = {{"relu", {}, {}}, {"softmax_cross_entropy", {}, {}}}; }), "layer 0 (relu"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.rule.optimiser = "rmsprop"; }), "rule.optimiser is \"rmsprop\"; the core knows sgd, momentum, adam"));
  CHECK(mentions(edited([](NetworkSpec& s) { s.rule.budget = "net"; }), "rule.budget is \"net\""));
  CHECK(mentions(edited([](NetworkSpec& s) { s.rule.global_share = "even"; }), "rule.globalShare is \"even\""));
}

TEST(each_rule_declares_its_hyper_parameters) {
  const auto names = [](const std::string& optimiser) {
    RuleSpec spec;
    spec.optimiser = optimiser;
    std::string joined;
    for (const HyperField& f : hyper_fields(parse_rule(spec))) joined += std::string(joined.empty() ? "" : " ") + f.name;
    return joined;
  };
  CHECK(names("sgd") == "lr alpha noiseStd");
  CHECK(names("momentum") == "lr momentum alpha noiseStd");
}
