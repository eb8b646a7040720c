/**
 * ONNX import: {@link dev.kiln.processor.onnx.OnnxReader} reads an {@code .onnx} file (the protobuf wire format,
 * no native code, memory a bounded multiple of the file's size), {@link dev.kiln.processor.onnx.OnnxImporter} turns a
 * sequential graph into Kiln layers and weights, and {@link dev.kiln.processor.onnx.ModelSourceWriter} writes the
 * {@code @Model} interface. Used by {@code kiln-cli import}.
 */
package dev.kiln.processor.onnx;
