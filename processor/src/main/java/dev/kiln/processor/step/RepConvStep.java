package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import dev.kiln.processor.layer.RepConvKind;
import dev.kiln.processor.layer.LayerKinds;
import dev.kiln.processor.model.RepConvSpec;
import dev.kiln.processor.validation.RepConvValidator;
import dev.kiln.processor.validation.Report;
import dev.kiln.processor.writing.ConvKernelWriter;
import dev.kiln.processor.writing.GeneratedFiles;
import dev.kiln.processor.writing.RepConvBlockWriter;
import java.util.Optional;
import java.util.Set;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.TypeElement;

/**
 * {@code @RepConv} on an interface: validate, then write {@code FooBlock} and {@code FooKernel}. On a method
 * it declares a {@code @Model} layer, which {@link ModelStep} handles.
 */
public final class RepConvStep extends ProcessingStep {
  static final String REP_VGG_BLOCK = "dev.kiln.nn.RepVggBlock";

  private final GeneratedFiles files;

  public RepConvStep(ProcessingEnvironment env, GeneratedFiles files) {
    super(env);
    this.files = files;
  }

  @Override
  public String annotation() {
    return LayerKinds.REP_CONV.qualifiedAnnotation();
  }

  @Override
  protected void process(Element element, AnnotationReader annotation) {
    if (element.getKind() == ElementKind.METHOD) {
      return;
    }
    Report report = new Report();
    Optional<RepConvSpec> spec =
        targets.checkLayerInterface(element, "RepConv", report, REP_VGG_BLOCK, Conv2dStep.CONV_KERNEL)
            ? RepConvValidator.validate(RepConvKind.request(annotation, null), report) : Optional.empty();
    if (spec.isEmpty()) {
      Diagnostics.print(env.getMessager(), element, annotation, report);
      return;
    }
    TypeElement type = (TypeElement) element;
    ClassName kernel = GeneratedFiles.nameFor(type, "Kernel");
    ClassName block = GeneratedFiles.nameFor(type, "Block");
    TypeSpec kernelType = new ConvKernelWriter(spec.get().deploy()).write(kernel.simpleName(), ClassName.get(type),
        false, "The fused deploy form of {@link " + type.getQualifiedName() + "}.");
    TypeSpec blockType = new RepConvBlockWriter(spec.get()).write(block.simpleName(), ClassName.get(type), kernel,
        false, "The training form of {@link " + type.getQualifiedName() + "}.");
    if (checkTakenOver(type, "RepConv", kernelType, kernel, Set.of())
        & checkTakenOver(type, "RepConv", blockType, block, Set.of())) {
      files.write(type, kernel, kernelType);
      files.write(type, block, blockType);
    }
  }
}
