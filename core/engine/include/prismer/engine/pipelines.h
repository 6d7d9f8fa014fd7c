// The `train` and `evaluate` pipelines: dataset plugin -> batches -> backbone plugin -> task plugin -> engine.
#pragma once

namespace prismer::engine {

/// Registers `pipeline: train` and `pipeline: evaluate` with core's dispatcher (prismer::register_pipeline).
/// The `prismer` command calls it at start-up; programs embedding the engine call it once before
/// run_pipeline_file.
void register_pipelines();

/// Registers `pipeline: quickstart` (configs/quickstart.yaml): synthetic scenes -> tokenizer -> per model variant an
/// untrained baseline, caption training and VQA fine-tuning as `train` / `evaluate` stages -> metrics.json.
void register_quickstart_pipeline();

}  // namespace prismer::engine
