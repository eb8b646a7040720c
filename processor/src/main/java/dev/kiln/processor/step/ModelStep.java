package dev.kiln.processor.step;

import com.palantir.javapoet.ClassName;
import dev.kiln.annotation.Reduction;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.ModelSpec;
import dev.kiln.processor.model.RepConvSpec;
import dev.kiln.processor.validation.ConvValidator;
import dev.kiln.processor.validation.KeyPrefixes;
import dev.kiln.processor.validation.Messages;
import dev.kiln.processor.validation.RepConvValidator;
import dev.kiln.processor.validation.Report;
import dev.kiln.processor.writing.ModelWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.annotation.processing.Messager;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.TypeElement;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.ElementFilter;
import javax.lang.model.util.Elements;
import javax.tools.Diagnostic;

/**
 * {@code @Model}: walks the layer methods in source order, infers each layer's input shape from the one
 * before, validates it, and writes {@code FooModel}. The first inconsistent layer is the error, reported on
 * its method (and attribute where one is to blame).
 */
public final class ModelStep implements Step {
  public static final String ANNOTATION = "dev.kiln.annotation.Model";
  static final String PKG = "dev.kiln.annotation.";
  /** Every annotation that declares a network layer, by simple name. */
  static final List<String> LAYERS = List.of("Conv2d", "RepConv", "Linear", "ReLU", "MaxPool2d", "AvgPool2d",
      "GlobalAvgPool2d", "Flatten", "Dropout", "BatchNorm2d");

  private final ProcessingEnvironment env;

  public ModelStep(ProcessingEnvironment env) {
    this.env = env;
  }

  @Override
  public String annotation() {
    return ANNOTATION;
  }

  @Override
  public void process(Element element) {
    Elements elements = env.getElementUtils();
    Messager messager = env.getMessager();
    AnnotationReader model = AnnotationReader.of(element, ANNOTATION, elements).orElseThrow();
    if (Conv2dStep.hasErroneousValue(model.mirror())) {
      return; // javac already reports the broken value
    }
    Report report = new Report();
    if (!Steps.checkLayerInterface(element, "Model", report, true)) {
      Diagnostics.print(messager, element, model, report);
      return;
    }
    TypeElement type = (TypeElement) element;
    int[] input = model.intArray("input");
    if ((input.length != 1 && input.length != 3) || Arrays.stream(input).anyMatch(v -> v <= 0)) {
      report.error("input", Messages.modelInput("got " + Arrays.toString(input)));
      Diagnostics.print(messager, element, model, report);
      return;
    }
    Optional<ModelSpec.RDropSpec> rDrop = readRDrop(type);
    if (rDrop == null) {
      return;
    }
    List<ExecutableElement> methods = new ArrayList<>();
    for (ExecutableElement m : ElementFilter.methodsIn(type.getEnclosedElements())) {
      if (m.getModifiers().contains(Modifier.ABSTRACT)) {
        methods.add(m);
      }
    }
    if (methods.isEmpty()) {
      messager.printMessage(Diagnostic.Kind.ERROR, Messages.modelEmpty(), element, model.mirror());
      return;
    }
    TypeMirror module = elements.getTypeElement("dev.kiln.nn.Module").asType();
    List<LayerSpec> layers = new ArrayList<>();
    List<String> prefixes = new ArrayList<>();
    List<String> names = new ArrayList<>();
    int[] shape = input;
    for (ExecutableElement method : methods) {
      String name = method.getSimpleName().toString();
      if (!method.getParameters().isEmpty() || !method.getTypeParameters().isEmpty()
          || !env.getTypeUtils().isSameType(method.getReturnType(), module)) {
        messager.printMessage(Diagnostic.Kind.ERROR, Messages.layerSignature(name), method);
        return;
      }
      List<String> found = new ArrayList<>();
      for (String layer : LAYERS) {
        if (AnnotationReader.of(method, PKG + layer, elements).isPresent()) {
          found.add(layer);
        }
      }
      if (found.size() != 1) {
        messager.printMessage(Diagnostic.Kind.ERROR, Messages.layerCount(name, found.size()), method);
        return;
      }
      AnnotationReader reader = AnnotationReader.of(method, PKG + found.get(0), elements).orElseThrow();
      if (Conv2dStep.hasErroneousValue(reader.mirror())) {
        return; // javac already reports the broken value
      }
      Report layerReport = new Report();
      LayerSpec spec = infer(found.get(0), name, shape, reader, layerReport);
      if (spec == null || !layerReport.isClean()) {
        Diagnostics.print(messager, method, reader, layerReport);
        return; // later layers depend on this one's shape: stop at the first inconsistency
      }
      layers.add(spec);
      shape = spec.outShape();
      if (!addKeyPrefix(method, name, prefixes, names)) {
        return;
      }
    }
    java.util.Map<String, String> keyPrefixes = new java.util.LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      keyPrefixes.put(names.get(i), prefixes.get(i));
    }
    ModelSpec spec = new ModelSpec(input, layers, rDrop, keyPrefixes);
    ClassName generated = Steps.generatedName(type, "Model");
    Steps.writeSource(env, type, generated,
        new ModelWriter(spec, ClassName.get(type), generated).write(
            "The network declared by {@link " + type.getQualifiedName() + "}."));
  }

  /**
   * Adds the layer's state-dict key prefix ({@code @KeyPrefix}, else the method name) after checking it against
   * the earlier ones; false after reporting an error on the {@code @KeyPrefix} value (or the method).
   */
  private boolean addKeyPrefix(ExecutableElement method, String name, List<String> prefixes, List<String> names) {
    Optional<AnnotationReader> key = AnnotationReader.of(method, PKG + "KeyPrefix", env.getElementUtils());
    if (key.isPresent() && Conv2dStep.hasErroneousValue(key.get().mirror())) {
      return false; // javac already reports the broken value
    }
    String prefix = key.map(k -> k.stringValue("value")).orElse(name);
    Optional<String> error = key.isPresent() ? KeyPrefixes.checkSyntax(prefix) : Optional.empty();
    prefixes.add(prefix);
    names.add(name);
    if (error.isEmpty()) {
      error = KeyPrefixes.checkAgainstEarlier(prefixes, names, prefixes.size() - 1);
    }
    if (error.isEmpty()) {
      return true;
    }
    if (key.isPresent()) {
      Report report = new Report();
      report.error("value", error.get());
      Diagnostics.print(env.getMessager(), method, key.get(), report);
    } else {
      env.getMessager().printMessage(Diagnostic.Kind.ERROR, error.get(), method);
    }
    return false;
  }

  /** The {@code @RDrop} settings: empty without it, {@code null} after reporting an error. */
  private Optional<ModelSpec.RDropSpec> readRDrop(TypeElement type) {
    Optional<AnnotationReader> r = AnnotationReader.of(type, PKG + "RDrop", env.getElementUtils());
    if (r.isEmpty()) {
      return Optional.empty();
    }
    double alpha = r.get().doubleValue("alpha");
    Reduction reduction = r.get().enumValue("klReduction", Reduction.class);
    Report report = new Report();
    if (!(alpha >= 0) || Double.isInfinite(alpha)) {
      report.error("alpha", Messages.rdropAlpha(alpha));
    }
    if (reduction != Reduction.SUM && reduction != Reduction.BATCHMEAN) {
      report.error("klReduction", Messages.rdropReduction(reduction.name()));
    }
    if (!report.isClean()) {
      Diagnostics.print(env.getMessager(), type, r.get(), report);
      return null;
    }
    return Optional.of(new ModelSpec.RDropSpec(alpha, reduction));
  }

  private static String show(int[] shape) {
    return Arrays.toString(shape);
  }

  /** The layer spec for {@code kind} receiving {@code in}, or {@code null} with errors in {@code report}. */
  static LayerSpec infer(String kind, String name, int[] in, AnnotationReader r, Report report) {
    switch (kind) {
      case "Conv2d": {
        if (!requireMap(kind, name, in, report) || !matches(kind, name, in, r, report)) {
          return null;
        }
        Optional<ConvSpec> conv = ConvValidator.validate(Conv2dStep.request(r, in[0], in[1], in[2]), report);
        return conv.map(c -> (LayerSpec) new LayerSpec.Conv(name, c)).orElse(null);
      }
      case "RepConv": {
        if (!requireMap(kind, name, in, report) || !matches(kind, name, in, r, report)) {
          return null;
        }
        Optional<RepConvSpec> block = RepConvValidator.validate(RepConvStep.request(r, in[0], in[1], in[2]), report);
        return block.map(b -> (LayerSpec) new LayerSpec.RepConv(name, b)).orElse(null);
      }
      case "Linear": {
        if (in.length != 1) {
          report.error("", Messages.needsVector(name, show(in)));
          return null;
        }
        int out = r.intValue("outFeatures");
        if (out <= 0) {
          report.error("outFeatures", Messages.positive("Linear", "outFeatures", out));
          return null;
        }
        return new LayerSpec.Linear(name, in[0], out, r.booleanValue("bias"));
      }
      case "MaxPool2d":
      case "AvgPool2d":
        return pool(kind, name, in, r, report);
      case "GlobalAvgPool2d":
        return requireMap(kind, name, in, report) ? new LayerSpec.GlobalAvgPool(name, in) : null;
      case "BatchNorm2d":
        return requireMap(kind, name, in, report) ? new LayerSpec.BatchNorm(name, in) : null;
      case "Flatten":
        return new LayerSpec.Flatten(name, in);
      case "ReLU":
        return new LayerSpec.Relu(name, in);
      case "Dropout": {
        double p = r.doubleValue("p");
        if (!(p >= 0 && p < 1)) {
          report.error("p", Messages.dropoutP(p));
          return null;
        }
        return new LayerSpec.Dropout(name, in, p);
      }
      default:
        throw new AssertionError(kind);
    }
  }

  private static boolean requireMap(String kind, String name, int[] in, Report report) {
    if (in.length != 3) {
      report.error("", Messages.needsMap(name, kind, show(in)));
      return false;
    }
    return true;
  }

  /** Explicit input-shape attributes must agree with what arrives. */
  private static boolean matches(String kind, String name, int[] in, AnnotationReader r, Report report) {
    String[] attributes = {"inChannels", "height", "width"};
    boolean ok = true;
    for (int i = 0; i < 3; i++) {
      Integer declared = r.explicitInt(attributes[i]);
      if (declared != null && declared != in[i]) {
        report.error(attributes[i], Messages.shapeMismatch(name, kind, attributes[i], declared, in[i], show(in)));
        ok = false;
      }
    }
    return ok;
  }

  private static LayerSpec pool(String kind, String name, int[] in, AnnotationReader r, Report report) {
    if (!requireMap(kind, name, in, report)) {
      return null;
    }
    int[] k = pair(kind, "kernelSize", r.intArray("kernelSize"), null, report);
    int[] s = pair(kind, "stride", r.intArray("stride"), k, report);
    int[] p = pair(kind, "padding", r.intArray("padding"), null, report);
    if (k == null || s == null || p == null) {
      return null;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i] < 0) {
        report.error("padding", "[kiln.positive] @" + kind + ".padding must be >= 0 but was " + p[i]);
        return null;
      }
      if (p[i] > k[i] / 2) {
        report.error("padding", Messages.poolPadding(kind, p[i], k[i]));
        return null;
      }
      if (in[i + 1] + 2 * p[i] < k[i]) {
        report.error("kernelSize", Messages.poolFit(name, kind, show(in), k[0], k[1], p[0], p[1]));
        return null;
      }
    }
    return new LayerSpec.Pool(name, kind.equals("MaxPool2d"), in, k[0], k[1], s[0], s[1], p[0], p[1]);
  }

  /** {@code {v}} or {@code {vH, vW}}; an empty array means {@code fallback} (the kernel for strides). */
  private static int[] pair(String kind, String attribute, int[] v, int[] fallback, Report report) {
    if (v.length == 0 && fallback != null) {
      return fallback;
    }
    if (v.length < 1 || v.length > 2) {
      report.error(attribute, Messages.arity(kind, attribute, v.length));
      return null;
    }
    int[] out = v.length == 1 ? new int[] {v[0], v[0]} : v.clone();
    if (!attribute.equals("padding")) {
      for (int x : out) {
        if (x <= 0) {
          report.error(attribute, Messages.positive(kind, attribute, x));
          return null;
        }
      }
    }
    return out;
  }

  /** Reports layer annotations on methods of interfaces that are not {@code @Model}s. */
  static void checkLayerContext(ProcessingEnvironment env, Element element, String simpleName) {
    if (element.getKind() != ElementKind.METHOD) {
      return;
    }
    Element owner = element.getEnclosingElement();
    if (AnnotationReader.of(owner, ANNOTATION, env.getElementUtils()).isEmpty()) {
      AnnotationReader.of(element, PKG + simpleName, env.getElementUtils()).ifPresent(r ->
          env.getMessager().printMessage(Diagnostic.Kind.ERROR, Messages.layerOutsideModel(simpleName,
              owner.getSimpleName() + "." + element.getSimpleName() + "()"), element,
              r.mirror()));
    }
  }
}
