package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.layer.LayerKinds;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.writing.ConvKernelWriter;
import dev.kiln.processor.writing.GeneratedFiles;
import java.util.Set;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.TypeElement;

/**
 * {@code @Conv2d} on an interface: validate, resolve a {@link ConvSpec}, write {@code FooKernel}. On a
 * method it declares a {@code @Model} layer, which {@link ModelStep} handles.
 */
public final class Conv2dStep extends LayerInterfaceStep<ConvSpec> {
  static final String CONV_KERNEL = "dev.kiln.nn.ConvKernel";

  public Conv2dStep(ProcessingEnvironment env, GeneratedFiles files) {
    super(env, files, LayerKinds.CONV2D, CONV_KERNEL);
  }

  @Override
  protected void write(TypeElement type, ConvSpec spec) {
    ClassName generated = GeneratedFiles.nameFor(type, "Kernel");
    TypeSpec kernel = new ConvKernelWriter(spec)
        .write(generated.simpleName(), ClassName.get(type), false,
            "The specialized kernel for {@link " + type.getQualifiedName() + "}.");
    if (checkTakenOver(type, "Conv2d", kernel, generated, Set.of())) {
      files.write(type, generated, kernel);
    }
  }
}
