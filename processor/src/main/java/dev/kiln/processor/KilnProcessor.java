package dev.kiln.processor;

import com.google.auto.service.AutoService;
import dev.kiln.processor.layer.LayerKind;
import dev.kiln.processor.layer.LayerKinds;
import dev.kiln.processor.step.Conv2dStep;
import dev.kiln.processor.step.LayerContextStep;
import dev.kiln.processor.step.ModelStep;
import dev.kiln.processor.step.ProcessingStep;
import dev.kiln.processor.step.RDropStep;
import dev.kiln.processor.step.RepConvStep;
import dev.kiln.processor.writing.GeneratedFiles;
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
import javax.lang.model.element.TypeElement;

/**
 * The Kiln annotation processor: one {@link ProcessingStep} per annotation family, and a
 * {@link LayerContextStep} per layer kind of the {@link LayerKinds} catalogue and for {@code @KeyPrefix}. Each annotated element is
 * validated on its own; a bad one is reported and skipped without stopping the others. The state of one
 * compilation (the files generated so far) belongs to this instance. Claims nothing.
 */
@AutoService(Processor.class)
public final class KilnProcessor extends AbstractProcessor {
  private List<ProcessingStep> steps = List.of();

  @Override
  public synchronized void init(ProcessingEnvironment env) {
    super.init(env);
    GeneratedFiles files = new GeneratedFiles(env.getFiler(), env.getMessager());
    List<ProcessingStep> all = new ArrayList<>();
    all.add(new Conv2dStep(env, files));
    all.add(new RepConvStep(env, files));
    all.add(new ModelStep(env, files));
    all.add(new RDropStep(env));
    for (LayerKind kind : LayerKinds.ALL) {
      all.add(LayerContextStep.layer(env, kind));
    }
    all.add(LayerContextStep.keyPrefix(env));
    steps = List.copyOf(all);
  }

  @Override
  public Set<String> getSupportedAnnotationTypes() {
    Set<String> names = new LinkedHashSet<>();
    for (ProcessingStep step : steps) {
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
    for (ProcessingStep step : steps) {
      TypeElement annotation = present.get(step.annotation());
      if (annotation != null) {
        step.process(round.getElementsAnnotatedWith(annotation));
      }
    }
    return false;
  }
}
