/**
 * {@code kiln-cli}: trains the sample RepVGG network with the reference recipe, fuses it and checks the
 * deploy form ({@code train}), and evaluates saved weights ({@code eval}).
 */
package dev.kiln.samples.cli;
