/** {@code Tensor}: a shape and a row-major, contiguous {@code float[]}; the one data type of the runtime. */
package dev.kiln.tensor;
