// A shared library with no prismerGetPluginInfo: the loader must say it is not a plugin.
extern "C" __attribute__((visibility("default"))) int prismerSomethingElse() { return 42; }
