/** A {@code @RepConv} block trained a few steps, fused, compared with its eval-mode form and timed. */
package dev.kiln.samples.repconv;
