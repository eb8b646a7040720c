/**
 * One processing step per annotation: read the element's annotation, validate it into a model, write the
 * generated classes ({@code ProcessingStep} holds the per-element error handling they share).
 */
package dev.kiln.processor.step;
