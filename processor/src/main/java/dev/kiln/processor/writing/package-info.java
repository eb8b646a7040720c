/**
 * JavaPoet writers, one per generated class kind (kernels, RepVGG blocks, networks), their emitters, and
 * {@code GeneratedFiles}, which writes each file once with {@code @Generated} and its originating element.
 */
package dev.kiln.processor.writing;
