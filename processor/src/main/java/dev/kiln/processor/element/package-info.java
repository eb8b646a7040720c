/**
 * Reading the user's source through javac's element API: annotation values (explicit, default or
 * erroneous) and printing problems as compile errors on the element, the annotation or the value.
 */
package dev.kiln.processor.element;
