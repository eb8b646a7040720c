/**
 * Data sets and batching: {@code Dataset}, {@code IdxDataset} (MNIST and Fashion-MNIST files, read within a
 * limit, gzip streamed through {@code GzipMembers}), {@code Digits} (the bundled UCI digits), and seeded,
 * reproducible batches ({@code Batches}).
 */
package dev.kiln.data;
