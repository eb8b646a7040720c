/**
 * Weight files: {@code SafeTensors}, a strict reader (bounded memory, an {@code IOException} for anything
 * malformed) and writer of the safetensors format, and its header's JSON.
 */
package dev.kiln.io;
