package dev.kiln.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The state-dict key prefix of a layer of a {@link Model}, in place of its method name: the layer's keys become
 * {@code <value>.<key>}. Lets a network declared after a PyTorch model load that model's checkpoint as it is,
 * including the dotted names of modules inside an {@code nn.Sequential}:
 *
 * <pre>{@code
 * @KeyPrefix("stage1.0") @RepConv(outChannels = 48, stride = 2) Module stage1_0();
 * // keys stage1.0.rbr_dense.conv.weight, ...; in the fused network stage1.0.rbr_reparam.weight/bias
 * }</pre>
 *
 * <p>The value is one or more names of letters, digits and underscores joined by single dots. Prefixes (explicit
 * or the method names of layers without one) must be distinct, and none may be a dotted prefix of another
 * ({@code "stage1"} and {@code "stage1.0"}), whose keys could collide. The accessor keeps the method's name.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
public @interface KeyPrefix {
  /** The prefix, e.g. {@code "stage1.0"} or {@code "linear"}. */
  String value();
}
