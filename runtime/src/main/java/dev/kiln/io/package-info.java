/**
 * Files: {@code SafeTensors} (a strict reader, {@code SafeTensorsReader}, whose memory a {@code ReadOptions}
 * limit bounds and which turns anything malformed into an {@code IOException}, and a writer,
 * {@code SafeTensorsWriter}), the runtime's one JSON writer and reader ({@code Json}), and atomic file writes
 * ({@code AtomicFile}) that never leave a torn file.
 */
package dev.kiln.io;
