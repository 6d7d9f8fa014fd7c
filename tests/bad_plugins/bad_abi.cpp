// A plugin built for a future SDK: its descriptor reports API version PRISMER_PLUGIN_API_VERSION + 41.
#include <prismer/plugin.h>

extern "C" __attribute__((visibility("default"))) const PrismerPluginInfo* prismerGetPluginInfo() {
  static const PrismerPluginInfo info{PRISMER_PLUGIN_API_VERSION + 41, TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI,
                                      "bad_abi",  "dataset", "0.0.1", "reports the wrong API version", "{}",
                                      nullptr};
  return &info;
}
