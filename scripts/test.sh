#!/usr/bin/env bash
# The whole test suite, as README.md gives it and .ci/run calls it.
# Installs what the tests need on a fresh Debian machine with Go, then runs
# formatting, vet, staticcheck, the Go tests (with -race) and the
# end-to-end scripts with real clients.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# The aws CLI from Debian (a pyenv shim may shadow `aws` on PATH, so look
# for the package's binary itself).
[ -x /usr/bin/aws ] || need_apt+=(awscli)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# boto3 for internal/e2e/hostile (run with Debian's /usr/bin/python3).
/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || need_apt+=(python3-boto3)
# PyKMIP's server for the KMIP key provider's tests (internal/kms/kmip,
# internal/e2e/kmip); they fail, never skip, without it.
[ -x /usr/bin/pykmip-server ] || need_apt+=(python3-pykmip)
# rclone and s3cmd for internal/e2e/clients (they fail, never skip, without them).
command -v rclone >/dev/null 2>&1 || need_apt+=(rclone)
command -v s3cmd >/dev/null 2>&1 || need_apt+=(s3cmd)
# SoftHSM2 for the PKCS#11 key provider (internal/kms/pkcs11, internal/e2e/pkcs11).
command -v softhsm2-util >/dev/null 2>&1 || need_apt+=(softhsm2)
# PostgreSQL for the metadata store on PostgreSQL (internal/meta/postgres,
# pgtest starts a private instance); its tests fail, never skip, without it.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
# The PKCS#11 provider and its tests need cgo (a C compiler).
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
# Headless Chromium for the operator console's browser test
# (internal/e2e/console); it fails, never skips, without it.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing packages: ${need_apt[*]} (run as root or install them)" >&2
    exit 1
  fi
fi

if [ "$(go env CGO_ENABLED)" != 1 ]; then
  echo "cgo is off: the PKCS#11 tests would not build (install gcc, CGO_ENABLED=1)" >&2
  exit 1
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

echo "== aws CLI end to end"
bash scripts/e2e-awscli.sh

echo "== all tests passed"
