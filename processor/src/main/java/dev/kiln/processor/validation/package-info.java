/**
 * Validators and every message the processor prints ({@code Messages}): each problem goes into a
 * {@code Report}, tied to the attribute to blame. Independent of javac, except {@code
 * TargetInterfaceValidator}, which reads the annotated interface and the runtime's base classes.
 */
package dev.kiln.processor.validation;
