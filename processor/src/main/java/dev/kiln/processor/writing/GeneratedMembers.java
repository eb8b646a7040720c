package dev.kiln.processor.writing;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.ParameterizedTypeName;
import com.palantir.javapoet.TypeName;
import com.palantir.javapoet.TypeSpec;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The members of a class Kiln is about to write, read back from its {@link TypeSpec}: a method whose name
 * comes from the user (a layer's accessor) must not take the name of one the writer adds itself.
 */
public final class GeneratedMembers {
  private GeneratedMembers() {}

  /**
   * The names of methods without parameters that {@code type} (named {@code name}) or one of its nested
   * classes declares more than once, each as {@code type.name()}.
   */
  public static Map<String, String> repeatedNoArgMethods(TypeSpec type, ClassName name) {
    Map<String, String> repeated = new TreeMap<>();
    Set<String> seen = new HashSet<>();
    for (MethodSpec method : type.methodSpecs()) {
      if (!method.isConstructor() && method.parameters().isEmpty() && !seen.add(method.name())) {
        repeated.putIfAbsent(method.name(), name.canonicalName() + "." + method.name() + "()");
      }
    }
    for (TypeSpec inner : type.typeSpecs()) {
      repeatedNoArgMethods(inner, name.nestedClass(inner.name())).forEach(repeated::putIfAbsent);
    }
    return repeated;
  }

  /**
   * The methods {@code type} itself declares (constructors aside), each as its name and erased parameter
   * types, e.g. {@code forwardSample(float[],int,float[],int,int,int)}.
   */
  public static Set<String> signatures(TypeSpec type) {
    Set<String> signatures = new HashSet<>();
    for (MethodSpec method : type.methodSpecs()) {
      if (!method.isConstructor()) {
        StringBuilder s = new StringBuilder(method.name()).append('(');
        for (int i = 0; i < method.parameters().size(); i++) {
          TypeName t = method.parameters().get(i).type();
          s.append(i == 0 ? "" : ",").append(t instanceof ParameterizedTypeName p ? p.rawType() : t);
        }
        signatures.add(s.append(')').toString());
      }
    }
    return signatures;
  }
}
