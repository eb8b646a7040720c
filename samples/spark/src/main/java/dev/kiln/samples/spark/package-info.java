/**
 * {@code kiln-spark}: batch scoring with a fused Kiln network on Apache Spark. Images (the bundled digits,
 * Fashion-MNIST IDX files or Parquet) become a {@code Dataset} of {@link dev.kiln.samples.spark.Images rows};
 * {@link dev.kiln.samples.spark.ScoringJob} scores its partitions in batches with one fused network per
 * executor JVM ({@link dev.kiln.samples.spark.ExecutorModels}) and writes the predictions as Parquet.
 */
package dev.kiln.samples.spark;
