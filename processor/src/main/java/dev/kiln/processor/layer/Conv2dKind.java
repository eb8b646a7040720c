package dev.kiln.processor.layer;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ConvValidator;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/** {@code @Conv2d}: a convolution, generated as a specialized kernel (also on a standalone interface). */
public final class Conv2dKind extends ConvolutionKind<ConvSpec> {
  Conv2dKind() {
    super("Conv2d");
  }

  @Override
  public Optional<ConvSpec> validate(AnnotationReader r, int[] arriving, Report report) {
    return ConvValidator.validate(new ConvValidator.Request(
        input(r, arriving),
        r.intValue("outChannels"),
        r.intArray("kernelSize"),
        r.intArray("stride"),
        r.stringValue("padding"),
        r.intArray("dilation"),
        r.intValue("groups"),
        r.booleanValue("bias"),
        r.enumValue("paddingMode", PaddingMode.class),
        r.enumValue("activation", Activation.class)), report);
  }

  @Override
  LayerSpec layer(String name, ConvSpec conv) {
    return new LayerSpec.Conv(name, conv);
  }
}
