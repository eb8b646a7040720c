package dev.kiln.processor.testing;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal class-file reader (JVMS chapter 4): the class name and, for every method, its name, descriptor
 * and bytecode length (the {@code code_length} of its {@code Code} attribute; -1 without one).
 */
public final class ClassFileMethods {
  /** One method of a class file. */
  public record Method(String name, String descriptor, int codeLength) {}

  private final String className;
  private final List<Method> methods;

  private ClassFileMethods(String className, List<Method> methods) {
    this.className = className;
    this.methods = methods;
  }

  public String className() {
    return className;
  }

  public List<Method> methods() {
    return methods;
  }

  /** Parses {@code bytes} as a class file. */
  public static ClassFileMethods parse(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (in.readInt() != 0xCAFEBABE) {
        throw new IllegalArgumentException("not a class file");
      }
      in.readUnsignedShort(); // minor
      in.readUnsignedShort(); // major
      int count = in.readUnsignedShort();
      String[] utf8 = new String[count];
      int[] classNameIndex = new int[count];
      for (int i = 1; i < count; i++) {
        int tag = in.readUnsignedByte();
        switch (tag) {
          case 1 -> utf8[i] = in.readUTF();
          case 7 -> classNameIndex[i] = in.readUnsignedShort(); // Class
          case 8, 16, 19, 20 -> in.readUnsignedShort(); // String, MethodType, Module, Package
          case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt(); // Integer, Float, refs, NameAndType, (Invoke)Dynamic
          case 5, 6 -> { // Long, Double take two slots
            in.readLong();
            i++;
          }
          case 15 -> { // MethodHandle
            in.readUnsignedByte();
            in.readUnsignedShort();
          }
          default -> throw new IllegalArgumentException("unknown constant pool tag " + tag + " at " + i);
        }
      }
      in.readUnsignedShort(); // access flags
      String name = utf8[classNameIndex[in.readUnsignedShort()]];
      in.readUnsignedShort(); // super class
      int interfaces = in.readUnsignedShort();
      for (int i = 0; i < interfaces; i++) {
        in.readUnsignedShort();
      }
      int fields = in.readUnsignedShort();
      for (int i = 0; i < fields; i++) {
        in.readUnsignedShort();
        in.readUnsignedShort();
        in.readUnsignedShort();
        skipAttributes(in);
      }
      int methodCount = in.readUnsignedShort();
      List<Method> methods = new ArrayList<>(methodCount);
      for (int i = 0; i < methodCount; i++) {
        in.readUnsignedShort(); // access flags
        String methodName = utf8[in.readUnsignedShort()];
        String descriptor = utf8[in.readUnsignedShort()];
        int codeLength = -1;
        int attributes = in.readUnsignedShort();
        for (int a = 0; a < attributes; a++) {
          String attribute = utf8[in.readUnsignedShort()];
          int length = in.readInt();
          if (attribute.equals("Code")) {
            in.readUnsignedShort(); // max_stack
            in.readUnsignedShort(); // max_locals
            codeLength = in.readInt();
            in.skipNBytes(length - 8L);
          } else {
            in.skipNBytes(length);
          }
        }
        methods.add(new Method(methodName, descriptor, codeLength));
      }
      return new ClassFileMethods(name, List.copyOf(methods));
    } catch (IOException e) {
      throw new UncheckedIOException("truncated class file", e);
    }
  }

  private static void skipAttributes(DataInputStream in) throws IOException {
    int attributes = in.readUnsignedShort();
    for (int a = 0; a < attributes; a++) {
      in.readUnsignedShort();
      in.skipNBytes(Integer.toUnsignedLong(in.readInt()));
    }
  }
}
