package dev.kiln.samples.spark;

import picocli.CommandLine.Mixin;

/**
 * A command that runs the scoring job ({@code score}, {@code bench}): the weights and how they score
 * ({@link ModelOptions}) first among its options, then the images ({@link InputOptions}).
 */
abstract class ScoringCommand extends SparkCommand {
  @Mixin
  ModelOptions model;

  @Mixin
  InputOptions input;

  /**
   * Checks the options (the model's, the input's, then the command's own {@link #validate()}) before any work,
   * then reads the weights on the driver, checked against {@code --dataset}.
   */
  ModelArtifact validateAndReadModel() {
    model.validate(spec.commandLine());
    input.validate(spec.commandLine());
    validate();
    return ModelArtifact.read(model.file, model.network);
  }

  /** Checks the command's own options; a failure is a usage error. None by default. */
  void validate() {}
}
