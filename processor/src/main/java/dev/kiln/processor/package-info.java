/**
 * The Kiln annotation processor ({@code KilnProcessor}): its steps, in the sub-packages, validate the
 * annotated interfaces and write the specialized classes; the state of one compilation belongs to the
 * processor instance.
 */
package dev.kiln.processor;
