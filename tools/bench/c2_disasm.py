#!/usr/bin/env python3
"""The machine code C2 compiled for one Java method, disassembled without the hsdis plugin.

HotSpot prints a compiled method's code with -XX:CompileCommand=print,METHOD; without a disassembler plugin
(hsdis) installed in the JDK it prints the code as hex words. This script runs a Java command with that option
added (or reads such output from a file), takes the last C2 compilation of the method (not an on-stack
replacement one, unless there is no other), and disassembles it with binutils' objdump (Intel syntax).

With --loop it prints only the innermost loop that contains vector fused multiply-adds (the smallest range
closed by a backward branch with a vfmadd inside), followed by counts of its instructions by kind: what one
reduction step of a tile kernel costs in instructions, spills included.

Usage:
  tools/bench/c2_disasm.py [--loop] --method 'dev.kiln.simd.BlockedKernels$Conv3x4::run' -- java ARGS...
  tools/bench/c2_disasm.py [--loop] --file OUTPUT_OF_PRINT_COMMAND

Example (RepVGG-A0's 192-channel layer alone; runtime and test classes built):
  tools/bench/c2_disasm.py --loop --method 'dev.kiln.simd.BlockedKernels$Conv3x4::run' -- \
    java --add-modules jdk.incubator.vector -cp runtime/target/classes:runtime/target/test-classes \
    dev.kiln.simd.LoneLayerTimes 192 192 14 3 1

Needs: a JDK (x86-64) and objdump. A diagnostic for developers; nothing in the build uses it.
"""
import argparse
import re
import subprocess
import sys
import tempfile
from collections import Counter

# "Compiled method (c2)  TIME  ID  FLAGS  4  ...": FLAGS as -XX:+PrintCompilation shows them (% on-stack
# replacement, s synchronized, ! exception handlers, b blocking, n native), then the tier, 4 for C2.
HEADER = re.compile(r"^Compiled method \(c2\)\s+\d+\s+\d+\s+([%sbn! ]*?)\s*4\s")
VECTOR_REGISTER = re.compile(r"\b[xyz]mm\d+\b")
CODE_LINE = re.compile(r"^\s*0x([0-9a-f]+): (.*)$")
HEX_WORD = re.compile(r"[0-9a-f]{2,8}")


def compilations(text):
    """The C2 compilations in HotSpot's print output: (is_osr, [MachCode] lines)."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = HEADER.match(lines[i])
        if not m:
            i += 1
            continue
        osr = "%" in m.group(1)
        j = i + 1
        while j < len(lines) and lines[j].strip() != "[MachCode]" and not HEADER.match(lines[j]):
            j += 1
        k = j + 1
        while k < len(lines) and lines[k].strip() != "[/MachCode]":
            k += 1
        found.append((osr, lines[j + 1:k]))
        i = k + 1
    return found


def code_bytes(lines):
    """The base address and the bytes of a compilation's code, from its hex-word lines."""
    base = None
    data = bytearray()
    for line in lines:
        m = CODE_LINE.match(line)
        if not m:
            continue
        rest = m.group(2).strip()
        if rest.startswith(";"):
            continue
        words = rest.replace("|", " ").split()
        if not words or not all(HEX_WORD.fullmatch(w) for w in words):
            if any(c.isalpha() and c not in "abcdef" for c in rest.split(";")[0]):
                sys.exit("the output already holds instructions (an hsdis plugin is installed): read it directly")
            continue
        addr = int(m.group(1), 16)
        if base is None:
            base = addr
        end = base + len(data)
        if addr < end:
            continue
        data += b"\x90" * (addr - end)
        data += bytes.fromhex("".join(words))
    if base is None:
        sys.exit("no code in the compilation's output")
    return base, bytes(data)


def disassemble(base, data):
    """(address, mnemonic and operands) for each instruction, by objdump."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                              "--adjust-vma=%#x" % base, f.name], capture_output=True, text=True, check=True).stdout
    result = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].strip().endswith(":"):
            result.append((int(parts[0].strip()[:-1], 16), " ".join(parts[2].split())))
    return result


def branch_target(text):
    m = re.match(r"j\w+\s+0x([0-9a-f]+)", text)
    return int(m.group(1), 16) if m and not text.startswith("jmp") else None


def innermost_fma_loop(instructions):
    """The smallest [target, branch] range closed by a backward conditional branch with a vfmadd inside."""
    addrs = [a for a, _ in instructions]
    best = None
    for idx, (addr, text) in enumerate(instructions):
        target = branch_target(text)
        if target is None or target >= addr:
            continue
        start = next((i for i, a in enumerate(addrs) if a >= target), None)
        body = instructions[start:idx + 1]
        if any(t.startswith("vfmadd") for _, t in body) and (best is None or len(body) < len(best)):
            best = body
    return best


def kind(text):
    op = text.split()[0]
    mem = "PTR [" in text
    stack = "[rsp" in text
    vector = VECTOR_REGISTER.search(text) is not None
    if op.startswith("vfmadd"):
        return "vector multiply-add"
    if op.startswith("vbroadcast"):
        return "broadcast from memory" if mem else "broadcast"
    if vector and stack:
        return "vector value on the stack (spill or fill)"
    if op.startswith("vmov") and mem and re.match(r"vmov\w+\s+[xy]mm", text):
        return "vector load"
    if op.startswith("vmov") and mem:
        return "vector store"
    if op.startswith("vmov"):
        return "vector register move"
    if stack:
        return "integer value on the stack (spill, fill or operand)"
    if op.startswith("cmp") or op.startswith("test"):
        return "compare (bounds checks, loop end)"
    if op.startswith("j"):
        return "branch"
    if op.startswith("mov") and mem:
        return "integer load"
    return "other integer"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--method", help="Class::method as -XX:CompileCommand names it")
    parser.add_argument("--file", help="read HotSpot's print output from this file instead of running java")
    parser.add_argument("--loop", action="store_true", help="only the innermost loop with vector multiply-adds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- java ARGS...")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.file:
        with open(args.file) as f:
            text = f.read()
    elif args.method and command:
        java = command[:1] + ["-XX:+UnlockDiagnosticVMOptions", "-XX:CompileCommand=quiet",
                              "-XX:CompileCommand=print," + args.method] + command[1:]
        text = subprocess.run(java, capture_output=True, text=True).stdout
    else:
        parser.error("give --file, or --method and a java command after --")
    found = compilations(text)
    if not found:
        sys.exit("no C2 compilation of the method in the output (did it run long enough?)")
    normal = [c for osr, c in found if not osr]
    chosen = normal[-1] if normal else found[-1][1]
    instructions = disassemble(*code_bytes(chosen))
    if not args.loop:
        for addr, text in instructions:
            print("%x: %s" % (addr, text))
        return
    loop = innermost_fma_loop(instructions)
    if loop is None:
        sys.exit("no loop with vector multiply-adds in the compiled code")
    for addr, text in loop:
        print("%x: %s" % (addr, text))
    counts = Counter(kind(t) for _, t in loop)
    print("\n%d instructions in the loop:" % len(loop))
    for k, n in counts.most_common():
        print("  %3d %s" % (n, k))


if __name__ == "__main__":
    main()
