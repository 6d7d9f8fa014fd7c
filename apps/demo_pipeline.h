// `pipeline: demo` (configs/demo.yaml): expert labels, captions and label pictures for a folder of photos.
#pragma once

namespace prismer::cli {

/// Registers `pipeline: demo` with core's dispatcher; `prismer run` calls it at start-up.
void register_demo_pipeline();

}  // namespace prismer::cli
