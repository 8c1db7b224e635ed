#!/usr/bin/env bash
# scripts/make-test-ca.sh DIR [--force] — throwaway certificates for tests and the demo.
#
# Writes into DIR (created if needed), EC P-256 keys everywhere:
#   ca.pem, ca.key                   the test CA
#   server.pem, server.key           server cert from the CA: SAN IP:127.0.0.1, DNS:localhost
#   client.pem, client.key           client cert from the CA (mTLS, extendedKeyUsage clientAuth)
#   other-ca.pem, other-ca.key       a second, unrelated CA ("unknown CA" tests)
#   other-server.pem, other-server.key  server cert for 127.0.0.1/localhost from other-ca
#   wrong-host.pem, wrong-host.key   server cert from the CA whose only SAN is DNS:wrong.example
#   server.pin, other-server.pin, wrong-host.pin
#                                    public-key pins in curl's format (sha256//BASE64)
#
# Idempotent: when every file is there and no certificate expires within a day, nothing
# is changed (run it before every test). --force makes a new set. The set is made in a
# temporary directory inside DIR and moved into place, so a half-made set is never used.
# Prints the pin of server.pem as the last line.
set -euo pipefail

usage() {
  echo "usage: scripts/make-test-ca.sh DIR [--force]" >&2
  exit 2
}
[[ $# -ge 1 && $# -le 2 ]] || usage
[[ "$1" != -* ]] || usage  # --help, -h: never taken for a directory
dir=$1
force=${2:-}
[[ -z "$force" || "$force" == --force ]] || usage
command -v openssl >/dev/null || {
  echo "make-test-ca.sh: the openssl command is needed (apt-get install openssl)" >&2
  exit 1
}
mkdir -p "$dir"

certs=(ca other-ca server client other-server wrong-host)
pins=(server other-server wrong-host)

complete() {
  local name
  for name in "${certs[@]}"; do
    [[ -s "$dir/$name.pem" && -s "$dir/$name.key" ]] || return 1
    openssl x509 -in "$dir/$name.pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
  done
  for name in "${pins[@]}"; do
    [[ -s "$dir/$name.pin" ]] || return 1
  done
}

if [[ -z "$force" ]] && complete; then
  cat "$dir/server.pin"
  exit 0
fi

work=$(mktemp -d "$dir/.make-test-ca.XXXXXX")
trap 'rm -rf "$work"' EXIT

new_key() { # new_key NAME
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
    -pkeyopt ec_param_enc:named_curve -out "$work/$1.key" 2>/dev/null
  chmod 600 "$work/$1.key"
}

serial() { printf '0x%s' "$(openssl rand -hex 12)"; }

new_ca() { # new_ca NAME COMMON_NAME
  new_key "$1"
  openssl req -x509 -new -key "$work/$1.key" -sha256 -days 3650 -subj "/O=outpost tests/CN=$2" \
    -set_serial "$(serial)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$work/$1.pem" 2>/dev/null
}

new_leaf() { # new_leaf NAME ISSUER COMMON_NAME EXTENDED_KEY_USAGE [SUBJECT_ALT_NAME]
  local name=$1 issuer=$2 cn=$3 eku=$4 san=${5:-}
  new_key "$name"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid:always"
    if [[ -n "$san" ]]; then echo "subjectAltName=$san"; fi
  } >"$work/$name.ext"
  openssl req -new -key "$work/$name.key" -subj "/O=outpost tests/CN=$cn" \
    -out "$work/$name.csr" 2>/dev/null
  openssl x509 -req -in "$work/$name.csr" -CA "$work/$issuer.pem" -CAkey "$work/$issuer.key" \
    -set_serial "$(serial)" -sha256 -days 825 -extfile "$work/$name.ext" \
    -out "$work/$name.pem" 2>/dev/null
  rm -f "$work/$name.csr" "$work/$name.ext"
}

new_pin() { # new_pin NAME: sha256 of the DER SubjectPublicKeyInfo, base64, curl's format
  local b64
  b64=$(openssl x509 -in "$work/$1.pem" -noout -pubkey |
    openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary |
    openssl enc -base64 -A)
  printf 'sha256//%s\n' "$b64" >"$work/$1.pin"
}

new_ca ca "outpost test CA"
new_ca other-ca "outpost other test CA"
new_leaf server ca localhost serverAuth "IP:127.0.0.1,DNS:localhost"
new_leaf client ca outpost-test-client clientAuth
new_leaf other-server other-ca localhost serverAuth "IP:127.0.0.1,DNS:localhost"
new_leaf wrong-host ca wrong.example serverAuth "DNS:wrong.example"
for name in "${pins[@]}"; do new_pin "$name"; done

# Keys first, then certificates, then pins: a reader that sees a pin sees the rest.
for name in "${certs[@]}"; do mv -f "$work/$name.key" "$dir/$name.key"; done
for name in "${certs[@]}"; do mv -f "$work/$name.pem" "$dir/$name.pem"; done
for name in "${pins[@]}"; do mv -f "$work/$name.pin" "$dir/$name.pin"; done
cat "$dir/server.pin"
