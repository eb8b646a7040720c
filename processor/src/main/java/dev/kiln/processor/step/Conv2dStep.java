package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.validation.ConvValidator;
import dev.kiln.processor.validation.Report;
import dev.kiln.processor.writing.ConvKernelWriter;
import java.util.Optional;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.TypeElement;

/** {@code @Conv2d} on an interface: validate, resolve a {@link ConvSpec}, write {@code FooKernel}. */
public final class Conv2dStep implements Step {
  public static final String ANNOTATION = "dev.kiln.annotation.Conv2d";

  private final ProcessingEnvironment env;

  public Conv2dStep(ProcessingEnvironment env) {
    this.env = env;
  }

  @Override
  public String annotation() {
    return ANNOTATION;
  }

  /** Reads the raw values of a {@code @Conv2d}, with input-shape overrides from a model (may be null). */
  public static ConvValidator.Request request(AnnotationReader r, Integer inChannels, Integer height, Integer width) {
    return new ConvValidator.Request(
        inChannels != null ? inChannels : r.explicitInt("inChannels"),
        r.intValue("outChannels"),
        r.intArray("kernelSize"),
        r.intArray("stride"),
        r.stringValue("padding"),
        r.intArray("dilation"),
        r.intValue("groups"),
        r.booleanValue("bias"),
        r.enumValue("paddingMode", PaddingMode.class),
        height != null ? height : r.explicitInt("height"),
        width != null ? width : r.explicitInt("width"),
        r.enumValue("activation", Activation.class));
  }

  @Override
  public void process(Element element) {
    if (element.getKind() == ElementKind.METHOD) {
      ModelStep.checkLayerContext(env, element, "Conv2d"); // inside a @Model, ModelStep handles it
      return;
    }
    AnnotationReader reader = AnnotationReader.of(element, ANNOTATION, env.getElementUtils()).orElseThrow();
    Report report = new Report();
    if (!Steps.checkLayerInterface(element, "Conv2d", report)) {
      Diagnostics.print(env.getMessager(), element, reader, report);
      return;
    }
    Optional<ConvSpec> spec = ConvValidator.validate(request(reader, null, null, null), report);
    if (!report.isClean() || spec.isEmpty()) {
      Diagnostics.print(env.getMessager(), element, reader, report);
      return;
    }
    TypeElement type = (TypeElement) element;
    ClassName generated = Steps.generatedName(type, "Kernel");
    TypeSpec kernel = new ConvKernelWriter(spec.get())
        .write(generated.simpleName(), ClassName.get(type), false,
            "The specialized kernel for {@link " + type.getQualifiedName() + "}.");
    Steps.writeSource(env, type, generated, kernel);
  }
}
