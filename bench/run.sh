#!/bin/sh
# keel's load harness: builds keel, serves each store, seeds it through the
# API and drives W1-W4 and a bare net/http ceiling with wrk (installed
# from Debian when missing). Flags: go run ./bench/cmd/load -help.
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/cmd/load "$@"
