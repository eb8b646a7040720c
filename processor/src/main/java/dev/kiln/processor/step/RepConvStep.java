package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import dev.kiln.annotation.Activation;
import dev.kiln.processor.model.RepConvSpec;
import dev.kiln.processor.validation.RepConvValidator;
import dev.kiln.processor.validation.Report;
import dev.kiln.processor.writing.ConvKernelWriter;
import dev.kiln.processor.writing.RepConvBlockWriter;
import java.util.Optional;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.TypeElement;

/** {@code @RepConv} on an interface: validate, then write {@code FooBlock} and {@code FooKernel}. */
public final class RepConvStep implements Step {
  public static final String ANNOTATION = "dev.kiln.annotation.RepConv";
  static final String REP_VGG_BLOCK = "dev.kiln.nn.RepVggBlock";

  private final ProcessingEnvironment env;

  public RepConvStep(ProcessingEnvironment env) {
    this.env = env;
  }

  @Override
  public String annotation() {
    return ANNOTATION;
  }

  /** Reads the raw values of a {@code @RepConv}, with input-shape overrides from a model (may be null). */
  public static RepConvValidator.Request request(AnnotationReader r, Integer inChannels, Integer height,
      Integer width) {
    return new RepConvValidator.Request(
        inChannels != null ? inChannels : r.explicitInt("inChannels"),
        r.intValue("outChannels"),
        r.intValue("kernelSize"),
        r.intValue("stride"),
        r.intValue("groups"),
        r.booleanValue("batchNorm"),
        r.enumValue("activation", Activation.class),
        height != null ? height : r.explicitInt("height"),
        width != null ? width : r.explicitInt("width"));
  }

  @Override
  public void process(Element element) {
    AnnotationReader reader = AnnotationReader.of(element, ANNOTATION, env.getElementUtils()).orElseThrow();
    if (Conv2dStep.hasErroneousValue(reader.mirror())) {
      return; // javac already reports the broken value (e.g. an unknown constant)
    }
    if (element.getKind() == ElementKind.METHOD) {
      ModelStep.checkLayerContext(env, element, "RepConv"); // inside a @Model, ModelStep handles it
      return;
    }
    Report report = new Report();
    if (!Steps.checkLayerInterface(element, "RepConv", report)
        || !Conv2dStep.checkImplementable(env, (TypeElement) element, "RepConv", REP_VGG_BLOCK, report)
        || !Conv2dStep.checkImplementable(env, (TypeElement) element, "RepConv", Conv2dStep.CONV_KERNEL, report)) {
      Diagnostics.print(env.getMessager(), element, reader, report);
      return;
    }
    Optional<RepConvSpec> spec = RepConvValidator.validate(request(reader, null, null, null), report);
    if (!report.isClean() || spec.isEmpty()) {
      Diagnostics.print(env.getMessager(), element, reader, report);
      return;
    }
    TypeElement type = (TypeElement) element;
    ClassName kernel = Steps.generatedName(type, "Kernel");
    ClassName block = Steps.generatedName(type, "Block");
    Steps.writeSource(env, type, kernel, new ConvKernelWriter(spec.get().deploy()).write(kernel.simpleName(),
        ClassName.get(type), false, "The fused deploy form of {@link " + type.getQualifiedName() + "}."));
    Steps.writeSource(env, type, block, new RepConvBlockWriter(spec.get()).write(block.simpleName(),
        ClassName.get(type), kernel, false, "The training form of {@link " + type.getQualifiedName() + "}."));
  }
}
