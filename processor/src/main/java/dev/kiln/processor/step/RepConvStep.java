package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.layer.LayerKinds;
import dev.kiln.processor.model.RepConvSpec;
import dev.kiln.processor.writing.ConvKernelWriter;
import dev.kiln.processor.writing.GeneratedFiles;
import dev.kiln.processor.writing.RepConvBlockWriter;
import java.util.Set;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.TypeElement;

/**
 * {@code @RepConv} on an interface: validate, then write {@code FooBlock} and {@code FooKernel}. On a method
 * it declares a {@code @Model} layer, which {@link ModelStep} handles.
 */
public final class RepConvStep extends LayerInterfaceStep<RepConvSpec> {
  static final String REP_VGG_BLOCK = "dev.kiln.nn.RepVggBlock";

  public RepConvStep(ProcessingEnvironment env, GeneratedFiles files) {
    super(env, files, LayerKinds.REP_CONV, REP_VGG_BLOCK, Conv2dStep.CONV_KERNEL);
  }

  @Override
  protected void write(TypeElement type, RepConvSpec spec) {
    ClassName kernel = GeneratedFiles.nameFor(type, "Kernel");
    ClassName block = GeneratedFiles.nameFor(type, "Block");
    TypeSpec kernelType = new ConvKernelWriter(spec.deploy()).write(kernel.simpleName(), ClassName.get(type),
        false, "The fused deploy form of {@link " + type.getQualifiedName() + "}.");
    TypeSpec blockType = new RepConvBlockWriter(spec).write(block.simpleName(), ClassName.get(type), kernel,
        false, "The training form of {@link " + type.getQualifiedName() + "}.");
    if (checkTakenOver(type, "RepConv", kernelType, kernel, Set.of())
        & checkTakenOver(type, "RepConv", blockType, block, Set.of())) {
      files.write(type, kernel, kernelType);
      files.write(type, block, blockType);
    }
  }
}
