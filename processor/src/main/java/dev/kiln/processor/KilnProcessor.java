package dev.kiln.processor;

import com.google.auto.service.AutoService;
import dev.kiln.processor.step.Conv2dStep;
import dev.kiln.processor.step.LayerContextStep;
import dev.kiln.processor.step.ModelStep;
import dev.kiln.processor.step.RDropStep;
import dev.kiln.processor.step.RepConvStep;
import dev.kiln.processor.step.Step;
import dev.kiln.processor.validation.Messages;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.processing.AbstractProcessor;
import javax.annotation.processing.ProcessingEnvironment;
import javax.annotation.processing.Processor;
import javax.annotation.processing.RoundEnvironment;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.Element;
import javax.lang.model.element.TypeElement;
import javax.tools.Diagnostic;

/**
 * The Kiln annotation processor: one {@link Step} per annotation family. Each annotated element is
 * validated on its own; a bad one is reported and skipped without stopping the others. Claims nothing.
 */
@AutoService(Processor.class)
public final class KilnProcessor extends AbstractProcessor {
  private List<Step> steps = List.of();

  @Override
  public synchronized void init(ProcessingEnvironment env) {
    super.init(env);
    List<Step> all = new ArrayList<>();
    all.add(new Conv2dStep(env));
    all.add(new RepConvStep(env));
    all.add(new ModelStep(env));
    all.add(new RDropStep(env));
    for (String layer : List.of("Linear", "ReLU", "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d", "Flatten", "Dropout",
        "BatchNorm2d", "KeyPrefix")) {
      all.add(new LayerContextStep(env, layer));
    }
    steps = List.copyOf(all);
  }

  @Override
  public Set<String> getSupportedAnnotationTypes() {
    Set<String> names = new LinkedHashSet<>();
    for (Step step : steps) {
      names.add(step.annotation());
    }
    return names;
  }

  @Override
  public SourceVersion getSupportedSourceVersion() {
    return SourceVersion.latestSupported();
  }

  @Override
  public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
    // Only the annotations present in this round: scanning a round's elements for an absent annotation
    // costs javac a walk over every member of every class, e.g. all generated kernels in the next round.
    Map<String, TypeElement> present = new HashMap<>();
    for (TypeElement annotation : annotations) {
      present.put(annotation.getQualifiedName().toString(), annotation);
    }
    for (Step step : steps) {
      TypeElement annotation = present.get(step.annotation());
      if (annotation == null) {
        continue;
      }
      for (Element element : round.getElementsAnnotatedWith(annotation)) {
        try {
          step.process(element);
        } catch (RuntimeException e) {
          processingEnv.getMessager().printMessage(Diagnostic.Kind.ERROR,
              Messages.internal(element.toString(), e), element);
        }
      }
    }
    return false;
  }
}
