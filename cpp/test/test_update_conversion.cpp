// device/update_conversion.hpp: each hyper-parameter lands in the deepr_update field of its name and
// comes back to the StepHyper field of its name (a table that crossed two fields would still
// round-trip, so each field is named here), and the rule and the noise stream's coordinates go
// where the device reads them.
#include "check.hpp"
#include "device/update_conversion.hpp"

using namespace deepr;

namespace {

// Every hyper-parameter a distinct value, none of them StepHyper's default.
StepHyper distinct_hyper() {
  StepHyper h{1.5f, 2.5f, 3.5f, 4.5f};  // lr, alpha, noise_std, momentum
  h.clip_norm = 5.5f;
  h.weight_decay = 6.5f;
  h.beta1 = 7.5f, h.beta2 = 8.5f, h.epsilon = 9.5f;
  h.correction1 = 10.5f, h.correction2 = 11.5f;
  return h;
}

}  // namespace

TEST(device_update_puts_each_hyper_parameter_in_its_field) {
  const StepHyper h = distinct_hyper();
  const deepr_update u = device_update(DEEPR_OPTIMISER_ADAM, DEEPR_PRIOR_L2, h, 0x1234567890ull, 77, 3);
  CHECK(u.optimiser == DEEPR_OPTIMISER_ADAM && u.prior == DEEPR_PRIOR_L2);
  CHECK(u.seed == 0x1234567890ull && u.step == 77 && u.store == 3);
  CHECK(u.lr == h.lr && u.alpha == h.alpha && u.noise_std == h.noise_std && u.momentum == h.momentum);
  CHECK(u.weight_decay == h.weight_decay && u.beta1 == h.beta1 && u.beta2 == h.beta2 && u.epsilon == h.epsilon);
  CHECK(u.correction1 == h.correction1 && u.correction2 == h.correction2);
}

TEST(step_hyper_reads_each_field_of_the_update_and_leaves_clipping_off) {
  const StepHyper h = step_hyper(device_update(DEEPR_OPTIMISER_SGD, DEEPR_PRIOR_DEEP_R, distinct_hyper(), 1, 2, 0));
  const StepHyper want = distinct_hyper();
  CHECK(h.lr == want.lr && h.alpha == want.alpha && h.noise_std == want.noise_std && h.momentum == want.momentum);
  CHECK(h.weight_decay == want.weight_decay && h.beta1 == want.beta1 && h.beta2 == want.beta2 &&
        h.epsilon == want.epsilon);
  CHECK(h.correction1 == want.correction1 && h.correction2 == want.correction2);
  CHECK(h.clip_norm == 0.0f);  // the step clips before any update: no device sees it
}
