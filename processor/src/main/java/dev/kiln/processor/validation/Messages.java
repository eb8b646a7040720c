package dev.kiln.processor.validation;

/**
 * Every diagnostic text the processor prints, in one place. Each starts with a short bracketed tag that
 * tests and users can search for.
 */
public final class Messages {
  private Messages() {}

  public static String nameClash(String generated, String other) {
    return "[kiln.name-clash] the generated class " + generated + " is already generated for " + other
        + "; rename one of the two interfaces";
  }

  public static String notAnInterface(String annotation) {
    return "[kiln.target] @" + annotation + " must be placed on an interface (or on a method of a @Model interface)";
  }

  public static String positive(String annotation, String attribute, long value) {
    return "[kiln.positive] @" + annotation + "." + attribute + " must be > 0 but was " + value;
  }

  public static String arity(String annotation, String attribute, int count) {
    return "[kiln.arity] @" + annotation + "." + attribute + " takes 1 or 2 values ({v} or {vH, vW}) but got "
        + count;
  }

  public static String missingShape(String annotation, String attribute) {
    return "[kiln.missing] @" + annotation + "." + attribute
        + " is required on a standalone interface (it is only inferred inside a @Model)";
  }

  public static String groupsDivide(String annotation, int groups, String which, int channels) {
    return "[kiln.groups] @" + annotation + ".groups = " + groups + " must divide " + which + " (" + channels + ")";
  }

  public static String padding(String text) {
    return "[kiln.padding] @Conv2d.padding \"" + text + "\" is not valid: use \"valid\", \"same\", \"p\" or \"pH,pW\""
        + " with non-negative integers";
  }

  public static String sameWithStride(int strideH, int strideW) {
    return "[kiln.same-stride] @Conv2d.padding \"same\" is not supported with stride > 1 (stride is "
        + strideH + "x" + strideW + "), as in PyTorch; use explicit padding";
  }

  public static String reflectTooLarge(int padH, int padW, int height, int width) {
    return "[kiln.reflect] paddingMode REFLECT needs padding smaller than the input in each dimension (as in PyTorch),"
        + " but the padding is " + padH + " rows and " + padW + " columns for an input of " + height + "x" + width
        + "; use less padding or another paddingMode";
  }

  public static String circularTooLarge(int padH, int padW, int height, int width) {
    return "[kiln.circular] paddingMode CIRCULAR needs padding no larger than the input in each dimension (as in"
        + " PyTorch), but the padding is " + padH + " rows and " + padW + " columns for an input of " + height + "x"
        + width + "; use less padding or another paddingMode";
  }

  public static String kernelTooLarge(String annotation, int kernelH, int kernelW, int dilationH, int dilationW,
      int paddedH, int paddedW) {
    return "[kiln.kernel-fit] @" + annotation + " kernel " + kernelH + "x" + kernelW + " with dilation " + dilationH
        + "x" + dilationW + " (span " + ((long) dilationH * (kernelH - 1) + 1) + "x"
        + ((long) dilationW * (kernelW - 1) + 1) + ") does not fit the padded input " + paddedH + "x" + paddedW;
  }

  public static String notImplementable(String annotation, String type, String base, java.util.List<String> methods) {
    return "[kiln.target] @" + annotation + " interface " + type + " has methods the generated kernel (a subclass of "
        + base + ") cannot implement or that clash with it: " + methods
        + " (abstract methods must be dev.kiln.nn.Module methods with the same signature; use default methods for"
        + " helpers)";
  }

  public static String tooLarge(String annotation, String what, long value) {
    return "[kiln.too-large] @" + annotation + " " + what + " (" + value + ") is too large for Java arrays";
  }

  public static String oddKernel(int kernel) {
    return "[kiln.odd-kernel] @RepConv.kernelSize must be odd (the 1x1 branch sits at the centre) but was "
        + kernel;
  }

  public static String repStride(int stride) {
    return "[kiln.rep-stride] @RepConv.stride must be 1 or 2 but was " + stride;
  }

  public static String layerOutsideModel(String annotation, String method) {
    if (annotation.equals("KeyPrefix")) {
      return "[kiln.layer-context] @KeyPrefix on method " + method + " names a network layer's state-dict keys and "
          + "needs an enclosing @Model interface";
    }
    return "[kiln.layer-context] @" + annotation + " on method " + method + " declares a network layer and needs an "
        + "enclosing @Model interface (for a standalone layer, annotate an interface instead)";
  }

  public static String layerCount(String method, int count) {
    return "[kiln.layer-annotation] layer method " + method + "() must carry exactly one layer annotation (@Conv2d, "
        + "@RepConv, @Linear, @ReLU, @MaxPool2d, @AvgPool2d, @GlobalAvgPool2d, @Flatten, @Dropout, @BatchNorm2d) "
        + "but has " + count;
  }

  public static String layerSignature(String method) {
    return "[kiln.layer-method] layer method " + method + "() must take no parameters, have no type parameters and "
        + "return dev.kiln.nn.Module";
  }

  public static String modelInput(String detail) {
    return "[kiln.model-input] @Model.input must be {C, H, W} or {F} with positive values: " + detail;
  }

  public static String modelEmpty() {
    return "[kiln.model-empty] a @Model interface needs at least one layer method";
  }

  public static String needsMap(String layer, String annotation, String arrived) {
    return "[kiln.shape] layer " + layer + ": @" + annotation + " needs a [C, H, W] feature map but " + arrived
        + " arrives" + (arrived.startsWith("[") && arrived.indexOf(',') < 0 ? " (a flattened vector)" : "");
  }

  public static String needsVector(String layer, String arrived) {
    return "[kiln.shape] layer " + layer + ": @Linear needs a flat [F] vector but the feature map " + arrived
        + " arrives; add a @Flatten (or @GlobalAvgPool2d then @Flatten) layer before it";
  }

  public static String shapeMismatch(String layer, String annotation, String attribute, int declared, int arriving,
      String arrived) {
    return "[kiln.shape] layer " + layer + ": @" + annotation + "." + attribute + " = " + declared + " but the input "
        + "that arrives is " + arrived + " (" + attribute + " " + arriving + ")";
  }

  public static String poolFit(String layer, String annotation, String arrived, int kH, int kW, int pH, int pW) {
    return "[kiln.shape] layer " + layer + ": @" + annotation + " kernel " + kH + "x" + kW + " with padding " + pH + ","
        + pW + " does not fit the input " + arrived;
  }

  public static String poolPadding(String annotation, int pad, int kernel) {
    return "[kiln.pool-padding] @" + annotation + ".padding " + pad + " must be at most half the kernel size "
        + kernel + " (as in PyTorch)";
  }

  public static String dropoutP(double p) {
    return "[kiln.dropout] @Dropout.p must be in [0, 1) but was " + p;
  }

  public static String rdropAlpha(double alpha) {
    return "[kiln.rdrop] @RDrop.alpha must be finite and >= 0 but was " + alpha;
  }

  public static String rdropTarget() {
    return "[kiln.rdrop] @RDrop goes on a @Model interface";
  }

  public static String keyPrefixSyntax(String prefix) {
    return "[kiln.key-prefix] @KeyPrefix \"" + prefix + "\" must be names of letters, digits and underscores "
        + "joined by single dots, e.g. \"stage1.0\"";
  }

  public static String keyPrefixDuplicate(String prefix, String method, String earlier) {
    return "[kiln.key-prefix] key prefix \"" + prefix + "\" of layer " + method + " is already the key prefix of "
        + "layer " + earlier;
  }

  public static String keyPrefixNested(String prefix, String method, String other, String otherMethod) {
    return "[kiln.key-prefix] key prefix \"" + prefix + "\" of layer " + method + " and \"" + other
        + "\" of layer " + otherMethod + " nest (one is a dotted prefix of the other), so their state-dict keys "
        + "could collide";
  }

  public static String repActivation(String activation) {
    return "[kiln.activation] @RepConv.activation must be NONE or RELU but was " + activation
        + " (RELU6 is supported on @Conv2d)";
  }

  public static String rdropReduction(String r) {
    return "[kiln.rdrop] @RDrop.klReduction must be SUM or BATCHMEAN but was " + r;
  }

  public static String internal(String what, Throwable e) {
    return "[kiln.internal] Kiln could not process " + what + ": " + e + " (this is a bug in Kiln; please report it)";
  }
}
