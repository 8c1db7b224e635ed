#!/usr/bin/env python3
"""Checks that the release build of outpost is one self-contained file.

    python3 static_binary_test.py --binary build/release/app/outpost --max-mib 10

The binary must be a statically linked ELF (no program interpreter, no dynamic
section: what `file` calls "statically linked"), no larger than --max-mib MiB, and
must run with an empty environment. Prints one line per check; exits 0 when every
check passes, 1 otherwise. Standard library only.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

PT_DYNAMIC = 2
PT_INTERP = 3
PT_NAMES = {PT_DYNAMIC: "PT_DYNAMIC", PT_INTERP: "PT_INTERP"}
REQUIRED_VERSION_KEYS = ("version", "commit", "build_date", "os", "arch", "dependencies")
REQUIRED_DEPENDENCIES = ("curl", "tls", "zstd", "sqlite", "libsodium")
RUN_TIMEOUT_S = 60


class ElfError(Exception):
    pass


def read_elf_linking(path):
    """Returns (program header types found, section names found) of an ELF64 LE file.

    Only the parts needed to tell static from dynamic linking are read.
    """
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file (magic %r)" % data[:4])
    if data[4] != 2:
        raise ElfError("not a 64-bit ELF (EI_CLASS=%d)" % data[4])
    if data[5] != 1:
        raise ElfError("not a little-endian ELF (EI_DATA=%d)" % data[5])
    if len(data) < 64:
        raise ElfError("truncated ELF header")
    # Elf64_Ehdr after e_ident[16]: type, machine, version, entry, phoff, shoff,
    # flags, ehsize, phentsize, phnum, shentsize, shnum, shstrndx.
    (_e_type, _machine, _version, _entry, phoff, shoff, _flags, _ehsize, phentsize, phnum,
     shentsize, shnum, shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)

    segment_types = []
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + 4 > len(data):
            raise ElfError("program header %d lies outside the file" % i)
        (p_type,) = struct.unpack_from("<I", data, off)
        segment_types.append(p_type)

    section_names = []
    if shoff and shnum and shstrndx < shnum:
        # Elf64_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize.
        def section(i):
            off = shoff + i * shentsize
            if off + 64 > len(data):
                raise ElfError("section header %d lies outside the file" % i)
            return struct.unpack_from("<IIQQQQIIQQ", data, off)

        strtab = section(shstrndx)
        str_off, str_size = strtab[4], strtab[5]
        names = data[str_off:str_off + str_size]
        for i in range(shnum):
            name_off = section(i)[0]
            end = names.find(b"\0", name_off)
            section_names.append(names[name_off:end if end >= 0 else None].decode("ascii", "replace"))
    return segment_types, section_names


class Report:
    def __init__(self):
        self.failures = 0

    def check(self, ok, name, detail=""):
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))
        if not ok:
            self.failures += 1
        return ok


def run_clean(binary, *args):
    """Runs the binary with an empty environment (`env -i`)."""
    return subprocess.run(["env", "-i", binary, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=RUN_TIMEOUT_S)


def check_static(report, binary):
    try:
        segments, sections = read_elf_linking(binary)
    except (OSError, ElfError, struct.error) as e:
        report.check(False, "binary is a statically linked ELF64 executable", str(e))
        return
    found = [PT_NAMES[t] for t in segments if t in PT_NAMES]
    if ".interp" in sections:
        found.append(".interp section")
    if ".dynamic" in sections and "PT_DYNAMIC" not in found:
        found.append(".dynamic section")
    report.check(not found, "binary is statically linked (no PT_INTERP, PT_DYNAMIC or .interp)",
                 ("found " + ", ".join(found)) if found else
                 "%d program headers, %d sections" % (len(segments), len(sections)))


def check_size(report, binary, max_mib):
    size = os.path.getsize(binary)
    mib = size / (1 << 20)
    report.check(size <= max_mib * (1 << 20), "binary is at most %g MiB" % max_mib,
                 "%d bytes (%.2f MiB)" % (size, mib))


def check_version_json(report, binary):
    name = "`env -i outpost version --json` exits 0 with the build facts"
    try:
        r = run_clean(binary, "version", "--json")
    except (OSError, subprocess.TimeoutExpired) as e:
        report.check(False, name, str(e))
        return
    if not report.check(r.returncode == 0, name + " (exit status)",
                        "exit %d%s" % (r.returncode, ", stderr: " + r.stderr.decode(errors="replace").strip()
                                       if r.returncode else "")):
        return
    try:
        info = json.loads(r.stdout)
    except ValueError as e:
        report.check(False, name + " (JSON)", "%s in %r" % (e, r.stdout[:200]))
        return
    missing = [k for k in REQUIRED_VERSION_KEYS if k not in info]
    report.check(not missing, "version JSON has %s" % ", ".join(REQUIRED_VERSION_KEYS),
                 ("missing " + ", ".join(missing)) if missing else "version %s" % info.get("version"))
    report.check(info.get("os") == "linux", 'version JSON says os == "linux"', "os=%r" % info.get("os"))
    deps = info.get("dependencies") if isinstance(info.get("dependencies"), dict) else {}
    missing = [d for d in REQUIRED_DEPENDENCIES if not deps.get(d)]
    report.check(not missing, "version JSON lists %s" % ", ".join(REQUIRED_DEPENDENCIES),
                 ("missing " + ", ".join(missing)) if missing else
                 ", ".join("%s %s" % (d, deps[d]) for d in REQUIRED_DEPENDENCIES))


def check_help(report, binary):
    try:
        r = run_clean(binary, "--help")
    except (OSError, subprocess.TimeoutExpired) as e:
        report.check(False, "`env -i outpost --help` exits 0", str(e))
        return
    report.check(r.returncode == 0 and b"Usage" in r.stdout, "`env -i outpost --help` exits 0",
                 "exit %d" % r.returncode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the outpost executable to check")
    parser.add_argument("--max-mib", type=float, required=True, help="largest allowed size in MiB")
    args = parser.parse_args()

    report = Report()
    if not report.check(os.path.isfile(args.binary), "binary exists", args.binary):
        return 1
    check_static(report, args.binary)
    check_size(report, args.binary, args.max_mib)
    check_version_json(report, args.binary)
    check_help(report, args.binary)
    print("%s: %d check(s) failed" % ("FAILED" if report.failures else "OK", report.failures))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
