/**
 * The one shared thread pool that kernels split their work over ({@code Parallel}; system property
 * {@code kiln.threads}).
 */
package dev.kiln.runtime;
