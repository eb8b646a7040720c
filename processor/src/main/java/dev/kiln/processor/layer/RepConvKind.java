package dev.kiln.processor.layer;

import dev.kiln.annotation.Activation;
import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.RepConvSpec;
import dev.kiln.processor.validation.RepConvValidator;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/** {@code @RepConv}: a RepVGG block and its fused deploy kernel (also on a standalone interface). */
public final class RepConvKind extends ConvolutionKind<RepConvSpec> {
  RepConvKind() {
    super("RepConv");
  }

  @Override
  public Optional<RepConvSpec> validate(AnnotationReader r, int[] arriving, Report report) {
    return RepConvValidator.validate(new RepConvValidator.Request(
        input(r, arriving),
        r.intValue("outChannels"),
        r.intValue("kernelSize"),
        r.intValue("stride"),
        r.intValue("groups"),
        r.booleanValue("batchNorm"),
        r.enumValue("activation", Activation.class)), report);
  }

  @Override
  LayerSpec layer(String name, RepConvSpec block) {
    return new LayerSpec.RepConv(name, block);
  }
}
