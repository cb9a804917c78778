#!/usr/bin/env bash
# The tests, from a fresh clone on Debian with only Rust: installs the tools the
# interoperability tests drive when they are missing, then runs every test of the workspace.
# Arguments go to `cargo test` (`./test.sh -p probes`, `./test.sh -- --skip chromium`).
#
# curl and openssl (s_client, s_server) talk TLS to the environment and the probe, jq reads
# its JSON in the walkthrough's walks, tshark decrypts a run's capture with its key log
# (Debian asks whether non-root users may capture: the noninteractive default, no, is fine), Chromium
# renders report.html, Python's jsonschema (SARIF against the OASIS schema) and junitparser
# (junit.xml) read the reports back.
set -euo pipefail
cd "$(dirname "$0")"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "test.sh: cannot install $* without root or sudo; install them and run again" >&2
    exit 2
  fi
}

python_modules() { python3 -c 'import jsonschema, junitparser' >/dev/null 2>&1; }

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ! python_modules && ! python3 -m pip --version >/dev/null 2>&1; then
  missing+=(python3-pip)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python_modules; then
  echo "test.sh: installing jsonschema junitparser (pip)" >&2
  # Debian's own python3 refuses pip outside a virtualenv (PEP 668) unless told otherwise.
  python3 -m pip install -q jsonschema junitparser 2>/dev/null \
    || python3 -m pip install -q --break-system-packages jsonschema junitparser
fi

exec cargo test --workspace "$@"
