package dev.kiln.processor.writing;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.ParameterizedTypeName;
import com.palantir.javapoet.TypeName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.ModelSpec;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.lang.model.element.Modifier;

/**
 * Writes {@code FooModel}: a {@code dev.kiln.nn.SequentialModel} whose layers are specialized kernels
 * (nested classes) or runtime layers constructed with their inferred shapes, one accessor per layer
 * method, and {@code fuse()} returning the nested deploy network {@code FooModel.Fused}.
 */
public final class ModelWriter {
  private static final String NN = "dev.kiln.nn";
  static final ClassName SEQUENTIAL = ClassName.get(NN, "SequentialModel");
  static final ClassName FUSION = ClassName.get(NN, "Fusion");
  static final ClassName INIT = ClassName.get(NN, "Init");
  static final ClassName OBJECTIVE = ClassName.get("dev.kiln.loss", "Objective");
  static final ClassName DECLARED_OBJECTIVE = ClassName.get("dev.kiln.loss", "DeclaredObjective");
  static final ClassName OBJECTIVES = ClassName.get("dev.kiln.loss", "Objectives");
  static final ClassName REDUCTION = ClassName.get("dev.kiln.annotation", "Reduction");

  /** What a nested class is to its layer; its name is the layer's name, capitalized, and the suffix. */
  private enum Nested {
    KERNEL("Kernel"),
    BLOCK("Block"),
    FUSED_KERNEL("FusedKernel");

    final String suffix;

    Nested(String suffix) {
      this.suffix = suffix;
    }
  }

  private final ModelSpec spec;
  private final ClassName userInterface;
  private final ClassName self;
  /** The nested classes, by layer name and role: unique, and none named like this class or {@code Fused}. */
  private final Map<String, Map<Nested, ClassName>> nested = new HashMap<>();
  private final Set<String> nestedNames = new HashSet<>();
  /**
   * The nested class of each distinct shape (a {@code ConvSpec} for kernels, a {@code RepConvSpec} for
   * blocks): layers of one shape share one class, so a network is its wiring plus one kernel per shape.
   */
  private final Map<Object, ClassName> byShape = new HashMap<>();
  /** The layers that use each nested class, in order. */
  private final Map<ClassName, List<String>> users = new HashMap<>();
  private final Set<ClassName> written = new HashSet<>();

  public ModelWriter(ModelSpec spec, ClassName userInterface, ClassName self) {
    this.spec = spec;
    this.userInterface = userInterface;
    this.self = self;
    nestedNames.add(self.simpleName());
    nestedNames.add("Fused");
    for (LayerSpec layer : spec.layers()) {
      if (layer instanceof LayerSpec.Conv c) {
        name(layer, Nested.KERNEL, c.conv());
      } else if (layer instanceof LayerSpec.RepConv r) {
        name(layer, Nested.BLOCK, r.block());
        name(layer, Nested.KERNEL, r.block().deploy());
      }
    }
    for (ModelSpec.DeployStep step : spec.deployPlan()) {
      if (step instanceof ModelSpec.FusedConv c && !c.spec().equals(c.source().conv())) {
        name(c.source(), Nested.FUSED_KERNEL, c.spec());
      }
    }
  }

  /**
   * Names the nested class of {@code layer} in {@code role}: {@code conv1 -> Conv1Kernel}, with a number
   * appended should two layers' names lead to one class name ({@code x} fused and {@code xFused}).
   */
  private void name(LayerSpec layer, Nested role, Object shape) {
    ClassName cls = byShape.get(shape);
    if (cls == null) {
      String base = layer.name().substring(0, 1).toUpperCase(Locale.ROOT) + layer.name().substring(1) + role.suffix;
      String simple = base;
      for (int i = 2; !nestedNames.add(simple); i++) {
        simple = base + i;
      }
      cls = self.nestedClass(simple);
      byShape.put(shape, cls);
    }
    users.computeIfAbsent(cls, k -> new ArrayList<>()).add(layer.name());
    nested.computeIfAbsent(layer.name(), k -> new EnumMap<>(Nested.class)).put(role, cls);
  }

  /**
   * Adds the nested class {@code cls} once, however many layers use it: {@code doc} describes its first
   * layer, and the others of the same shape are listed after it.
   */
  private void addShared(TypeSpec.Builder type, ClassName cls, String doc, Function<String, TypeSpec> writer) {
    if (!written.add(cls)) {
      return;
    }
    List<String> layers = users.get(cls);
    String text = doc;
    if (layers.size() > 1) {
      text += " One class per distinct shape: layers " + layers.stream().skip(1).distinct()
          .map(n -> "{@code " + n + "}").collect(java.util.stream.Collectors.joining(", ")) + " use it too.";
    }
    type.addType(writer.apply(text));
  }

  private ClassName nested(LayerSpec layer, Nested role) {
    return nested.get(layer.name()).get(role);
  }

  /** The class of a training layer: a nested kernel or block for a convolution, else the runtime's class. */
  private TypeName layerType(LayerSpec layer) {
    if (layer instanceof LayerSpec.Conv) {
      return nested(layer, Nested.KERNEL);
    }
    if (layer instanceof LayerSpec.RepConv) {
      return nested(layer, Nested.BLOCK);
    }
    return ClassName.get(NN, ((LayerSpec.Runtime) layer).runtimeClass());
  }

  /** {@code new <layer>(...)} with the layer's shapes; {@code seed} is a long expression. */
  private CodeBlock newLayer(LayerSpec layer, String seed) {
    TypeName type = layerType(layer);
    if (layer instanceof LayerSpec.Runtime r) {
      return CodeBlock.of("new $T($L)", type, String.join(", ", r.constructorArguments(seed)));
    }
    return CodeBlock.of("new $T($L)", type, seed);
  }

  /** {@code add("name", layer)}, or {@code add("name", "key.prefix", layer)} when the key prefix differs. */
  private static CodeBlock addCall(String name, String keyPrefix, Object layer) {
    return name.equals(keyPrefix) ? CodeBlock.of("add($S, $L)", name, layer)
        : CodeBlock.of("add($S, $S, $L)", name, keyPrefix, layer);
  }

  private static CodeBlock intArray(int[] values) {
    CodeBlock.Builder b = CodeBlock.builder().add("new int[] {");
    for (int i = 0; i < values.length; i++) {
      b.add(i == 0 ? "$L" : ", $L", values[i]);
    }
    return b.add("}").build();
  }

  public TypeSpec write(String title) {
    TypeSpec.Builder type = TypeSpec.classBuilder(self.simpleName())
        .addModifiers(Modifier.PUBLIC, Modifier.FINAL)
        .superclass(SEQUENTIAL)
        .addSuperinterface(userInterface)
        .addSuperinterface(DECLARED_OBJECTIVE)
        .addJavadoc("$L\n\n<p>$L\n\n<p>{@link #fuse()} returns the deploy network {@link Fused}. Generated by Kiln; "
            + "do not edit.\n", title, describe());
    MethodSpec.Builder ctor = MethodSpec.constructorBuilder()
        .addModifiers(Modifier.PUBLIC)
        .addJavadoc("A network with PyTorch's default initialization drawn from {@code seed} (each layer from its "
            + "own derived seed).\n")
        .addParameter(long.class, "seed")
        .addStatement("super($L, $L)", intArray(spec.input()), intArray(spec.output()));
    int index = 0;
    for (LayerSpec layer : spec.layers()) {
      TypeName lt = layerType(layer);
      type.addField(FieldSpec.builder(lt, layer.name(), Modifier.PRIVATE, Modifier.FINAL).build());
      ctor.addStatement("this.$L = $L", layer.name(), addCall(layer.name(), spec.keyPrefix(layer),
          newLayer(layer, "seed * 1000003L + " + index + "L")));
      type.addMethod(MethodSpec.methodBuilder(layer.name())
          .addAnnotation(Override.class)
          .addModifiers(Modifier.PUBLIC)
          .returns(lt)
          .addJavadoc("Layer $L: input $L, output $L.\n", index, LayerSpec.shape(layer.inShape()),
              LayerSpec.shape(layer.outShape()))
          .addStatement("return $L", layer.name())
          .build());
      index++;
    }
    type.addMethod(GeneratedMethods.seedZeroConstructor(
        CodeBlock.of("A network with PyTorch's default initialization drawn from seed 0.\n")));
    type.addMethod(ctor.build());
    type.addMethod(objective());
    // Nested kernels and blocks.
    for (LayerSpec layer : spec.layers()) {
      if (layer instanceof LayerSpec.Conv c) {
        ClassName kernel = nested(c, Nested.KERNEL);
        addShared(type, kernel, "The kernel of layer {@code " + c.name() + "}.",
            doc -> new ConvKernelWriter(c.conv()).write(kernel.simpleName(), null, true, doc));
      } else if (layer instanceof LayerSpec.RepConv r) {
        ClassName kernel = nested(r, Nested.KERNEL);
        addShared(type, kernel, "The fused deploy kernel of layer {@code " + r.name() + "}.",
            doc -> new ConvKernelWriter(r.block().deploy()).write(kernel.simpleName(), null, true, doc));
        ClassName block = nested(r, Nested.BLOCK);
        addShared(type, block, "The RepVGG block of layer {@code " + r.name() + "}.",
            doc -> new RepConvBlockWriter(r.block()).write(block.simpleName(), null, kernel, true, doc));
      }
    }
    writeFused(type);
    return type.build();
  }

  /** {@code objective()}: R-Drop as the {@code @RDrop} says, plain cross-entropy without one. */
  private MethodSpec objective() {
    MethodSpec.Builder m = MethodSpec.methodBuilder("objective")
        .addAnnotation(Override.class)
        .addModifiers(Modifier.PUBLIC)
        .returns(OBJECTIVE);
    spec.rDrop().ifPresentOrElse(
        r -> m.addJavadoc("R-Drop: the batch duplicated, alpha $L, KL reduced by $L.\n", r.alpha(), r.klReduction())
            .addStatement("return $T.rDrop($L, $T.$L)", OBJECTIVES, r.alpha(), REDUCTION, r.klReduction().name()),
        () -> m.addJavadoc("Cross-entropy (the interface has no {@code @RDrop}).\n")
            .addStatement("return $T.crossEntropy()", OBJECTIVES));
    return m.build();
  }

  private String describe() {
    StringBuilder s = new StringBuilder("Layers: input ").append(LayerSpec.shape(spec.input()));
    for (LayerSpec layer : spec.layers()) {
      s.append(", ").append(layer.name()).append(" -> ").append(LayerSpec.shape(layer.outShape()));
    }
    spec.rDrop().ifPresent(r -> s.append(". Trained with R-Drop (alpha ").append(r.alpha()).append(")"));
    return s.append('.').toString();
  }

  /** The deploy network class and {@code fuse()}. */
  private void writeFused(TypeSpec.Builder type) {
    ClassName fused = self.nestedClass("Fused");
    TypeSpec.Builder f = TypeSpec.classBuilder("Fused")
        .addModifiers(Modifier.PUBLIC, Modifier.STATIC, Modifier.FINAL)
        .superclass(SEQUENTIAL)
        .addJavadoc("The deploy form of {@link $T}: RepConv blocks fused, BatchNorm folded into the preceding "
            + "convolution, ReLU fused into kernel epilogues, Dropout removed. In eval mode from the start; its "
            + "outputs equal the training network's eval outputs.\n\n<p>Its own state dict: a fused RepConv "
            + "block's keys are {@code <prefix>.rbr_reparam.weight/bias} (the official RepVGG deploy names), a "
            + "convolution with a folded BatchNorm keeps the convolution's {@code <prefix>.weight/bias}, other "
            + "layers keep their keys; {@code new Fused().loadStateDict(deployCheckpoint)} loads a deploy-form "
            + "checkpoint.\n", self);
    MethodSpec.Builder ctor = MethodSpec.constructorBuilder(); // private, or public when it takes no layers
    List<CodeBlock> fresh = new ArrayList<>();
    MethodSpec.Builder fuse = MethodSpec.methodBuilder("deployLayers")
        .addModifiers(Modifier.PRIVATE)
        .returns(fused)
        .addJavadoc("{@link #fuse()}'s work, with random initialization skipped: every parameter of the deploy layers "
            + "is written from this network's.\n");
    List<String> args = new ArrayList<>();
    ctor.addStatement("super($L, $L)", intArray(spec.input()), intArray(spec.output()));
    int index = 0;
    for (ModelSpec.DeployStep step : spec.deployPlan()) {
      LayerSpec first = step.sources().get(0);
      String name = first.name();
      String key = spec.keyPrefix(first);
      String seed = "seed * 1000003L + " + index++ + "L";
      TypeName lt;
      if (step instanceof ModelSpec.FusedConv c) {
        boolean sameKernel = c.spec().equals(c.source().conv());
        if (sameKernel) {
          lt = layerType(c.source());
        } else {
          ClassName kernel = nested(c.source(), Nested.FUSED_KERNEL);
          lt = kernel;
          addShared(type, kernel, "The deploy kernel of layer {@code " + name + "}"
                  + (c.batchNorm() != null ? " with {@code " + c.batchNorm().name() + "} folded in" : "")
                  + (c.relu() != null ? " and {@code " + c.relu().name() + "} fused" : "") + ".",
              doc -> new ConvKernelWriter(c.spec()).write(kernel.simpleName(), null, true, doc));
        }
        fuse.addStatement("$T $L = new $T()", lt, name, lt);
        fresh.add(CodeBlock.of("new $T($L)", lt, seed));
        fuse.addStatement("$T.foldInto(this.$L, $L, $L)", FUSION, name,
            c.batchNorm() == null ? "null" : "this." + c.batchNorm().name(), name);
      } else if (step instanceof ModelSpec.FusedRepConv r) {
        lt = nested(r.source(), Nested.KERNEL);
        fuse.addStatement("$T $L = this.$L.fuse()", lt, name, name);
        fresh.add(CodeBlock.of("new $T($L)", lt, seed));
        key = key + ".rbr_reparam";
      } else {
        LayerSpec layer = ((ModelSpec.Keep) step).layer();
        lt = layerType(layer);
        fuse.addStatement("$T $L = $L", lt, name, newLayer(layer, "0L"));
        fuse.addStatement("$T.copyState(this.$L, $L)", FUSION, name, name);
        fresh.add(newLayer(layer, seed));
      }
      f.addField(FieldSpec.builder(lt, name, Modifier.PRIVATE, Modifier.FINAL).build());
      ctor.addParameter(lt, name);
      ctor.addStatement("this.$L = $L", name, addCall(name, key, name));
      f.addMethod(MethodSpec.methodBuilder(name)
          .addModifiers(Modifier.PUBLIC)
          .returns(lt)
          .addJavadoc("Deploy layer for $L.\n", step.sources().stream().map(LayerSpec::name).toList())
          .addStatement("return $L", name)
          .build());
      args.add(name);
    }
    ctor.addStatement("train(false)");
    if (fresh.isEmpty()) { // nothing left after fusion (only Dropout): the one constructor is the public one
      f.addMethod(ctor.addModifiers(Modifier.PUBLIC).build());
      f.addMethod(MethodSpec.constructorBuilder().addModifiers(Modifier.PUBLIC).addParameter(long.class, "seed")
          .addStatement("this()").build());
      type.addType(f.build());
      type.addMethod(fuseMethod(fused).addStatement("return new $T()", fused).build());
      return;
    }
    f.addMethod(ctor.addModifiers(Modifier.PRIVATE).build());
    f.addMethod(MethodSpec.constructorBuilder()
        .addModifiers(Modifier.PUBLIC)
        .addJavadoc("A deploy network with PyTorch's default initialization drawn from {@code seed}, in eval mode: "
            + "load a deploy-form state dict into it with {@link #loadStateDict}.\n")
        .addParameter(long.class, "seed")
        .addStatement("this($L)", CodeBlock.join(fresh, ", "))
        .build());
    f.addMethod(GeneratedMethods.seedZeroConstructor(
        CodeBlock.of("A deploy network initialized from seed 0 (see {@link #Fused(long)}).\n")));
    type.addType(f.build());
    fuse.addStatement("return new $T($L)", fused, String.join(", ", args));
    // Fusion writes every deploy weight, so drawing random ones first only costs time (about 60 ms of a cold
    // RepVGG-A0's first result on an AMD EPYC Zen 1). An anonymous class, not a method reference: a lambda is a
    // class generated at run time, on the way to a first result (a program's first took about 7 ms in a fresh
    // JDK 17 against 0.6 for an anonymous class, on an AMD EPYC Zen 3).
    TypeSpec deploy = TypeSpec.anonymousClassBuilder("")
        .addSuperinterface(ParameterizedTypeName.get(ClassName.get(Supplier.class), fused))
        .addMethod(MethodSpec.methodBuilder("get")
            .addAnnotation(Override.class)
            .addModifiers(Modifier.PUBLIC)
            .returns(fused)
            .addStatement("return deployLayers()")
            .build())
        .build();
    type.addMethod(fuseMethod(fused).addStatement("return $T.skipped($L)", INIT, deploy).build());
    type.addMethod(fuse.build());
  }

  /** The public {@code fuse()}, without its body. */
  private static MethodSpec.Builder fuseMethod(ClassName fused) {
    return MethodSpec.methodBuilder("fuse")
        .addModifiers(Modifier.PUBLIC)
        .returns(fused)
        .addJavadoc("The deploy network, built from this network's current weights and running statistics (a "
            + "copy: later training does not change it).\n");
  }
}
