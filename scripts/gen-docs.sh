#!/usr/bin/env bash
# scripts/gen-docs.sh [--check] [BINARY] — regenerate the key reference in docs/config.md
# and installer/outpost.example.toml.
#
# Runs `BINARY config schema --markdown` (BINARY defaults to build/dev/app/outpost; it
# is not built here) and replaces what lies between the two marker lines of
# docs/config.md with its output, keeping the rest of the file as it is:
#
#   <!-- BEGIN GENERATED: outpost config schema --markdown -->
#   <!-- END GENERATED -->
#
# With --check nothing is written: exit 0 when the section is up to date, 1 when it
# differs (the diff is printed). Exit 2 on a usage error, a missing or failing
# binary, or markers that are missing or out of order.
set -euo pipefail

usage() {
  echo "usage: scripts/gen-docs.sh [--check] [BINARY]   (default BINARY: build/dev/app/outpost)" >&2
  exit 2
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
check=0
binary=
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) [[ -z "$binary" ]] || usage; binary=$arg ;;
  esac
done
binary=${binary:-$root/build/dev/app/outpost}
doc="$root/docs/config.md"

[[ -x "$binary" ]] || { echo "gen-docs: $binary is not an executable; build it first" >&2; exit 2; }
[[ -f "$doc" ]] || { echo "gen-docs: $doc not found" >&2; exit 2; }

generated=$(mktemp)
trap 'rm -f "$generated"' EXIT
if ! "$binary" config schema --markdown >"$generated"; then
  echo "gen-docs: '$binary config schema --markdown' failed" >&2
  exit 2
fi
[[ -s "$generated" ]] || { echo "gen-docs: '$binary config schema --markdown' printed nothing" >&2; exit 2; }

python3 - "$doc" "$generated" "$check" <<'PY'
import difflib, os, sys, tempfile

doc_path, gen_path, check = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
BEGIN = "<!-- BEGIN GENERATED: outpost config schema --markdown -->"
END = "<!-- END GENERATED -->"

with open(doc_path, encoding="utf-8", newline="") as f:
    doc = f.read()
with open(gen_path, encoding="utf-8", newline="") as f:
    generated = f.read().replace("\r\n", "\n")
if not generated.endswith("\n"):
    generated += "\n"

begin = doc.find(BEGIN)
end = doc.find(END, begin + len(BEGIN)) if begin >= 0 else -1
if begin < 0 or end < 0 or doc.count(BEGIN) != 1 or doc.count(END) != 1:
    print("gen-docs: %s must hold each marker line exactly once, in order:\n  %s\n  %s"
          % (doc_path, BEGIN, END), file=sys.stderr)
    sys.exit(2)

head = doc[:begin + len(BEGIN)] + "\n"
tail = doc[end:]
new = head + generated + tail

if check:
    if new == doc:
        print("gen-docs: %s is up to date" % doc_path)
        sys.exit(0)
    sys.stdout.writelines(difflib.unified_diff(doc.splitlines(True), new.splitlines(True),
                                               doc_path, "generated"))
    print("gen-docs: %s is out of date; run scripts/gen-docs.sh" % doc_path, file=sys.stderr)
    sys.exit(1)

if new == doc:
    print("gen-docs: %s is up to date" % doc_path)
    sys.exit(0)
# Replace atomically, keeping the file's mode.
mode = os.stat(doc_path).st_mode & 0o7777
fd, tmp = tempfile.mkstemp(prefix=".config.md.", dir=os.path.dirname(doc_path))
try:
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(new)
    os.chmod(tmp, mode)
    os.replace(tmp, doc_path)
except BaseException:
    os.unlink(tmp)
    raise
print("gen-docs: rewrote the generated section of %s" % doc_path)
PY

# installer/outpost.example.toml is `config init -` of a Linux build, kept in the tree
# for packages (a unit test compares the two).
example="$root/installer/outpost.example.toml"
if ((check)); then
  "$binary" config init - | cmp -s - "$example" ||
    { echo "gen-docs: $example is out of date; run scripts/gen-docs.sh" >&2; exit 1; }
else
  "$binary" config init - >"$example.tmp" && mv "$example.tmp" "$example"
  echo "gen-docs: wrote $example"
fi
