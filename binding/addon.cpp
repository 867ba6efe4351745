// Module entry: exports the NativeNetwork class. Context-aware (NODE_API_ADDON), so it loads in
// worker threads and Electron renderers; no state outside the instance data.
#include <napi.h>

#include "network_wrap.hpp"

namespace deepr_binding {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {InstanceValue("NativeNetwork", NetworkWrap::Define(env), napi_enumerable),
                          InstanceValue("abiVersion", Napi::Number::New(env, 1), napi_enumerable)});
  }
};

}  // namespace deepr_binding

using DeeprAddon = deepr_binding::Addon;
NODE_API_ADDON(DeeprAddon)
