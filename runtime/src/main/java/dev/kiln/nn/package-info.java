/**
 * Layers and the module contract: {@code Module} (PyTorch's forward, explicit backward, train/eval, state
 * dicts), {@code Parameter}, the base classes generated code extends ({@code ConvKernel} with its one
 * {@code ConvGeometry}, {@code RepVggBlock}, {@code SequentialModel}), the runtime layers a {@code @Model}
 * uses ({@code Linear}, {@code ReLU}, the pools, {@code Flatten}, {@code Dropout}, {@code BatchNorm2d}),
 * deploy-time folding ({@code Fusion}), the reference convolution the generated kernels are tested against
 * ({@code ReferenceConv2d}), and the scalar loops a vectorized engine may replace ({@code ConvEngine},
 * {@code PlaneLoops}, found through {@code Accelerators}). Knows nothing of losses or training.
 */
package dev.kiln.nn;
