package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A corpus of malformed files, built byte by byte: each must fail with an {@link IOException} whose message
 * starts with the file name and contains the given fragment (naming the tensor or key where there is one).
 */
class SafeTensorsMalformedTest {
  /** Number of cases in {@link #cases()}; asserted so a lost case is noticed. */
  private static final int CASE_COUNT = 67;

  @TempDir Path dir;

  private record Case(String name, byte[] file, String fragment) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() {
    List<Case> c = new ArrayList<>();
    String f32x2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    // --- framing: length field and header size
    c.add(new Case("empty file", new byte[0], "file has 0 bytes, fewer than the 8-byte header length"));
    c.add(new Case("7-byte file", new byte[7], "file has 7 bytes"));
    c.add(new Case("header length 0", raw(0, ""), "header length is 0"));
    c.add(new Case("header length 2^60", raw(1L << 60, "{}"), "header length 1152921504606846976 exceeds the limit"));
    c.add(new Case("header length 2^64-1", raw(-1L, "{}"), "header length 18446744073709551615 exceeds the limit"));
    c.add(new Case("header length 100 MB + 1", raw(100_000_001L, "{}"), "exceeds the limit of 100000000 bytes"));
    c.add(new Case("header longer than the file", raw(100, "{}"),
        "header length 100 exceeds the 2 bytes after the length field"));
    c.add(new Case("header cut by one byte", raw(3, "{}"), "header length 3 exceeds the 2 bytes"));
    // --- encoding and JSON syntax
    c.add(new Case("invalid UTF-8", raw(bytes('{', '"', 0xC3, 0x28, '"', ':', '{', '}', '}')), "not valid UTF-8"));
    c.add(new Case("overlong UTF-8 for '/'", raw(bytes('{', '"', 0xC0, 0xAF, '"', ':', '{', '}', '}')),
        "not valid UTF-8"));
    c.add(new Case("UTF-8 encoded surrogate", raw(bytes('{', '"', 0xED, 0xA0, 0x80, '"', ':', '{', '}', '}')),
        "not valid UTF-8"));
    c.add(new Case("byte order mark", raw(bytes(0xEF, 0xBB, 0xBF, '{', '}')),
        "must be a JSON object starting with '{'"));
    c.add(new Case("top level is an array", header("[]"), "must be a JSON object starting with '{'"));
    c.add(new Case("leading whitespace", header(" {}"), "must be a JSON object starting with '{'"));
    c.add(new Case("truncated JSON", header("{\"a\":"), "unexpected end of the header, expected a value"));
    c.add(new Case("unclosed object", header("{\"a\":" + f32x2), "unexpected end of the header, expected ',' or '}'"));
    c.add(new Case("unterminated string", header("{\"abc"), "unterminated string"));
    c.add(new Case("missing colon", header("{\"a\" 1}"), "expected ':', found '1'"));
    c.add(new Case("trailing garbage", header("{}  x"), "trailing characters after the JSON object"));
    c.add(new Case("two objects", header("{}{}"), "trailing characters after the JSON object"));
    c.add(new Case("NUL padding", header("{}\0\0\0\0\0\0"), "trailing characters after the JSON object"));
    c.add(new Case("trailing comma", header("{\"__metadata__\":{\"k\":\"v\",}}"), "expected a string key, found '}'"));
    c.add(new Case("unquoted key", header("{a:1}"), "expected a string key, found 'a'"));
    c.add(new Case("fraction", tensor("a", "{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}", 8),
        "only integers are allowed"));
    c.add(new Case("exponent", tensor("a", "{\"dtype\":\"F32\",\"shape\":[1e3],\"data_offsets\":[0,8]}", 8),
        "only integers are allowed"));
    c.add(new Case("true literal", header("{\"__metadata__\":{\"k\":true}}"), "unsupported JSON literal"));
    c.add(new Case("null literal", tensor("a", "null", 0), "unsupported JSON literal"));
    c.add(new Case("leading zero", tensor("a", "{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}", 8),
        "leading zeros are not allowed"));
    c.add(new Case("lone minus", tensor("a", "{\"dtype\":\"F32\",\"shape\":[-],\"data_offsets\":[0,8]}", 8),
        "'-' must be followed by digits"));
    c.add(new Case("integer beyond 64 bits",
        tensor("a", "{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}", 8),
        "integer 99999999999999999999 does not fit in 64 bits"));
    c.add(new Case("invalid escape", header("{\"a\\x\":1}"), "invalid escape sequence \\x"));
    c.add(new Case("bad \\u digits", header("{\"\\u12G4\":1}"), "invalid \\u escape"));
    c.add(new Case("truncated \\u", header("{\"\\u12"), "truncated \\u escape"));
    c.add(new Case("lone high surrogate", header("{\"\\uD83D\":1}"), "unpaired surrogate \\ud83d"));
    c.add(new Case("high surrogate + non-surrogate", header("{\"\\uD83D\\u0041\":1}"), "unpaired surrogate \\ud83d"));
    c.add(new Case("lone low surrogate", header("{\"\\uDE00\":1}"), "unpaired surrogate \\ude00"));
    c.add(new Case("raw newline in a string", header("{\"a\nb\":1}"), "raw control character U+000A"));
    c.add(new Case("nesting deeper than 64", header("{\"__metadata__\":" + "[".repeat(100_000)),
        "JSON nested deeper than 64 levels"));
    c.add(new Case("duplicate tensor name", header("{\"a\":" + f32x2 + ",\"a\":" + f32x2 + "}", 8),
        "duplicate key \"a\""));
    c.add(new Case("duplicate field in an entry",
        tensor("a", "{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8),
        "duplicate key \"dtype\""));
    // --- __metadata__
    c.add(new Case("metadata not an object", header("{\"__metadata__\":\"pt\"}"),
        "\"__metadata__\" must be an object of strings, found the string \"pt\""));
    c.add(new Case("metadata value not a string", header("{\"__metadata__\":{\"format\":\"pt\",\"step\":3}}"),
        "\"__metadata__\" value of \"step\" must be a string, found the integer 3"));
    // --- tensor entries
    c.add(new Case("entry not an object", tensor("a", "[0,8]", 8),
        "tensor \"a\": entry must be an object, found a list"));
    c.add(new Case("missing dtype", tensor("w", "{\"shape\":[2],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": missing field \"dtype\""));
    c.add(new Case("missing data_offsets", tensor("w", "{\"dtype\":\"F32\",\"shape\":[2]}", 8),
        "tensor \"w\": missing field \"data_offsets\""));
    c.add(new Case("unknown field", tensor("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}", 8),
        "tensor \"w\": unknown field \"x\""));
    c.add(new Case("unknown dtype", tensor("w", "{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": unknown dtype \"F7\""));
    c.add(new Case("lower-case dtype", tensor("w", "{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": unknown dtype \"f32\""));
    c.add(new Case("unsupported dtype", tensor("w", "{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}", 2),
        "tensor \"w\": unsupported dtype \"F8_E4M3\""));
    c.add(new Case("dtype not a string", tensor("w", "{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": dtype must be a string, found the integer 4"));
    c.add(new Case("shape not a list", tensor("w", "{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": shape must be a list of integers, found the integer 2"));
    c.add(new Case("shape holds a string",
        tensor("w", "{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": shape must be a list of integers, found the string \"2\" at index 0"));
    c.add(new Case("negative dimension", tensor("w", "{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": negative dimension -2"));
    c.add(new Case("dimension beyond int",
        tensor("w", "{\"dtype\":\"U8\",\"shape\":[4294967296],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": dimension 4294967296 in shape [4294967296] exceeds 2147483647"));
    c.add(new Case("element count overflow", tensor("w",
            "{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}", 8),
        "tensor \"w\": shape [2147483647, 2147483647, 2147483647, 2147483647] has more than 2147483639 elements"));
    c.add(new Case("data_offsets with three values",
        tensor("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}", 8),
        "tensor \"w\": data_offsets must be a list of two integers [begin, end], found [0, 4, 8]"));
    c.add(new Case("begin after end", tensor("w", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}", 8),
        "tensor \"w\": data_offsets [8, 4] must satisfy 0 <= begin <= end"));
    c.add(new Case("span does not match shape",
        tensor("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}", 4),
        "tensor \"w\": data_offsets [0, 4] span 4 bytes but F32 with shape [2] needs 8"));
    c.add(new Case("offsets past the data (truncated file)", tensor("w", f32x2, 4),
        "tensor \"w\": data_offsets [0, 8] reach past the end of the 4-byte data section"));
    c.add(new Case("overlapping tensors", header("{\"a\":" + f32x2
            + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
        "tensor \"b\" [4, 12) overlaps tensor \"a\" [0, 8)"));
    c.add(new Case("empty tensor inside another", header("{\"a\":" + f32x2
            + ",\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8),
        "tensor \"e\" [4, 4) overlaps tensor \"a\" [0, 8)"));
    c.add(new Case("gap between tensors", header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
        "gap in the data section: bytes [4, 8) belong to no tensor (before tensor \"b\")"));
    c.add(new Case("gap at the start", tensor("b", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}", 8),
        "gap in the data section: bytes [0, 4)"));
    c.add(new Case("trailing data bytes", tensor("a", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 8),
        "data section has 8 bytes but the tensors cover only 4"));
    c.add(new Case("data but no tensors", header("{}", 8), "data section has 8 bytes but the tensors cover only 0"));
    c.add(new Case("BOOL byte other than 0/1",
        header("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", bytes(1, 2, 0)),
        "tensor \"m\": BOOL element 1 is byte 2, not 0 or 1"));
    c.add(new Case("tensor named with an escaped quote", header("{\"a\\\"b\":{\"dtype\":\"X\",\"shape\":[],"
        + "\"data_offsets\":[0,0]}}"), "tensor \"a\\\"b\": unknown dtype \"X\""));
    return c.stream();
  }

  @Test
  void corpusHasTheExpectedNumberOfDistinctCases() {
    List<Case> all = cases().toList();
    assertThat(all).hasSize(CASE_COUNT);
    Set<String> names = new HashSet<>();
    for (Case c : all) {
      assertWithMessage("duplicate case name %s", c.name()).that(names.add(c.name())).isTrue();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void malformedFileFailsWithAClearMessage(Case c) throws IOException {
    Path file = dir.resolve("bad.safetensors");
    Files.write(file, c.file());
    IOException e = assertThrows(IOException.class, () -> SafeTensors.read(file));
    assertThat(e.getMessage()).startsWith(file + ": ");
    assertThat(e.getMessage()).contains(c.fragment());
  }

  @Test
  void headerClaiming2To60BytesFailsFastWithoutAllocating() throws IOException {
    Path file = dir.resolve("huge-header.safetensors");
    Files.write(file, raw(1L << 60, "{}"));
    long allocated = allocatedBytesDuring(() -> SafeTensors.read(file));
    assertThat(allocated).isLessThan(1L << 20);
  }

  @Test
  void shapeClaimingTwoBillionFloatsInASmallFileFailsWithoutAllocating() throws IOException {
    Path file = dir.resolve("huge-tensor.safetensors");
    long bytes = 4L * (Integer.MAX_VALUE - 8);
    Files.write(file, tensor("w", "{\"dtype\":\"F32\",\"shape\":[" + (Integer.MAX_VALUE - 8) + "],"
        + "\"data_offsets\":[0," + bytes + "]}", 16));
    IOException[] error = new IOException[1];
    long allocated = allocatedBytesDuring(() -> {
      try {
        SafeTensors.read(file);
      } catch (IOException e) {
        error[0] = e;
        throw e;
      }
    });
    assertThat(error[0]).hasMessageThat().contains("reach past the end of the 16-byte data section");
    assertThat(allocated).isLessThan(1L << 20);
  }

  interface Action {
    void run() throws IOException;
  }

  /** Heap bytes this thread allocates while {@code action} fails with an IOException (after a warm-up run). */
  static long allocatedBytesDuring(Action action) {
    var bean = ManagementFactory.getThreadMXBean();
    Assumptions.assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "no per-thread allocation counter");
    var threads = (com.sun.management.ThreadMXBean) bean;
    Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
    assertThrows(IOException.class, action::run); // warm-up: class loading, message formatting
    long id = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(id);
    assertThrows(IOException.class, action::run);
    return threads.getThreadAllocatedBytes(id) - before;
  }

  /** A file with a length field of {@code headerLength} followed by {@code rest} (UTF-8). */
  private static byte[] raw(long headerLength, String rest) {
    return concat(lengthField(headerLength), rest.getBytes(StandardCharsets.UTF_8));
  }

  /** A file whose length field matches {@code header} exactly. */
  private static byte[] raw(byte[] header) {
    return concat(lengthField(header.length), header);
  }

  /** A well-framed file: header text (UTF-8, length field set to match) and no data. */
  private static byte[] header(String json) {
    return header(json, 0);
  }

  /** A well-framed file: header text and {@code dataBytes} zero bytes of data. */
  private static byte[] header(String json, int dataBytes) {
    return header(json, new byte[dataBytes]);
  }

  private static byte[] header(String json, byte[] data) {
    return concat(raw(json.getBytes(StandardCharsets.UTF_8)), data);
  }

  /** A file with one tensor entry {@code name: entryJson} and {@code dataBytes} zero bytes of data. */
  private static byte[] tensor(String name, String entryJson, int dataBytes) {
    return header("{\"" + name + "\":" + entryJson + "}", dataBytes);
  }

  private static byte[] lengthField(long length) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array();
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
