package dev.kiln.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses a gzip file (RFC 1952) as a stream, strictly: one or more complete members, each with a
 * valid header (reserved flags clear, header CRC checked when present), deflate data and a trailer whose
 * CRC-32 and length match what was inflated, and nothing after the last member. Unlike
 * {@link java.util.zip.GZIPInputStream}, which silently stops at bytes after a member that do not form
 * another one, trailing garbage is a {@link ZipException}; a file that ends inside a member is an
 * {@link EOFException}. Only what the caller reads is inflated.
 */
final class GzipMembers extends InputStream {
  private static final int ID1 = 0x1f;
  private static final int ID2 = 0x8b;
  private static final int DEFLATE = 8;
  private static final int FHCRC = 2;
  private static final int FEXTRA = 4;
  private static final int FNAME = 8;
  private static final int FCOMMENT = 16;
  private static final int RESERVED = 0xe0;

  private final PushbackInputStream in;
  private final byte[] buffer = new byte[1 << 16];
  private final Inflater inflater = new Inflater(true);
  private final CRC32 crc = new CRC32();
  /** How many bytes of {@link #buffer} the inflater was last given. */
  private int inputLength;
  private long inflated;
  private boolean finished;

  /** Reads the first member's header from {@code in}. */
  GzipMembers(InputStream in) throws IOException {
    this.in = new PushbackInputStream(in, buffer.length);
    readHeader(true);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    while (!finished) {
      int n = inflate(b, off, len);
      if (n > 0) {
        crc.update(b, off, n);
        inflated += n;
        return n;
      }
      if (inflater.finished()) {
        endMember();
      } else if (inflater.needsInput()) {
        int read = in.read(buffer);
        if (read < 0) {
          throw new EOFException("the gzip data ends inside a member");
        }
        inflater.setInput(buffer, 0, read);
        inputLength = read;
      } else if (inflater.needsDictionary()) {
        throw new ZipException("the deflate data asks for a preset dictionary, which gzip does not have");
      }
    }
    return -1;
  }

  private int inflate(byte[] b, int off, int len) throws ZipException {
    try {
      return inflater.inflate(b, off, len);
    } catch (DataFormatException e) {
      throw new ZipException("invalid deflate data: " + e.getMessage());
    }
  }

  /** Checks the trailer of the member just inflated, then expects the end of the file or another member. */
  private void endMember() throws IOException {
    int remaining = inflater.getRemaining();
    if (remaining > 0) {
      in.unread(buffer, inputLength - remaining, remaining);
    }
    long expectedCrc = readLittleEndian(4);
    long expectedSize = readLittleEndian(4);
    if (expectedCrc != crc.getValue()) {
      throw new ZipException(String.format("CRC-32 mismatch: the trailer says %08x but the data has %08x",
          expectedCrc, crc.getValue()));
    }
    if (expectedSize != (inflated & 0xffffffffL)) {
      throw new ZipException("length mismatch: the trailer says " + expectedSize + " bytes (mod 2^32) but "
          + inflated + " were inflated");
    }
    int next = in.read();
    if (next < 0) {
      finished = true;
      return;
    }
    in.unread(next);
    readHeader(false);
  }

  /** Reads a member header; after the first member, anything that is not one is trailing garbage. */
  private void readHeader(boolean first) throws IOException {
    CRC32 headerCrc = new CRC32();
    int id1 = in.read();
    int id2 = in.read();
    if (id1 != ID1 || id2 != ID2) {
      throw new ZipException(first ? "not in gzip format"
          : "trailing garbage: the bytes after a gzip member are not another gzip member");
    }
    headerCrc.update(id1);
    headerCrc.update(id2);
    int method = headerByte(headerCrc);
    if (method != DEFLATE) {
      throw new ZipException("unsupported compression method " + method + " (gzip uses 8, deflate)");
    }
    int flags = headerByte(headerCrc);
    if ((flags & RESERVED) != 0) {
      throw new ZipException(String.format("reserved header flags set (flags %02x)", flags));
    }
    for (int i = 0; i < 6; i++) { // modification time, extra flags, operating system
      headerByte(headerCrc);
    }
    if ((flags & FEXTRA) != 0) {
      int length = headerByte(headerCrc) | headerByte(headerCrc) << 8;
      for (int i = 0; i < length; i++) {
        headerByte(headerCrc);
      }
    }
    if ((flags & FNAME) != 0) {
      skipZeroTerminated(headerCrc);
    }
    if ((flags & FCOMMENT) != 0) {
      skipZeroTerminated(headerCrc);
    }
    if ((flags & FHCRC) != 0) {
      long expected = readLittleEndian(2);
      if (expected != (headerCrc.getValue() & 0xffff)) {
        throw new ZipException("header CRC mismatch");
      }
    }
    inflater.reset();
    crc.reset();
    inflated = 0;
  }

  private int headerByte(CRC32 headerCrc) throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the gzip data ends inside a member header");
    }
    headerCrc.update(b);
    return b;
  }

  private void skipZeroTerminated(CRC32 headerCrc) throws IOException {
    while (headerByte(headerCrc) != 0) {
      // the file name or comment, not needed
    }
  }

  private long readLittleEndian(int bytes) throws IOException {
    long value = 0;
    for (int i = 0; i < bytes; i++) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the gzip data ends inside a member trailer");
      }
      value |= (long) b << (8 * i);
    }
    return value;
  }

  @Override
  public void close() throws IOException {
    inflater.end();
    in.close();
  }
}
