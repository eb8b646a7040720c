/**
 * The official-structure RepVGG-A0 declared with {@code @KeyPrefix} and loaded from both official checkpoint
 * forms ({@link dev.kiln.samples.imports.RepVggCheckpoints}).
 */
package dev.kiln.samples.imports;
