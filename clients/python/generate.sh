#!/usr/bin/env bash
# Generates the Python protobuf and gRPC stubs of recurrent.v1 into
# clients/python/recurrent/_gen/ (not committed), with Debian's protoc and
# grpc_python_plugin (apt: protobuf-compiler, protobuf-compiler-grpc).
#   clients/python/generate.sh
# The stubs import each other as `recurrent.v1.…_pb2`; recurrent/__init__.py
# adds _gen/recurrent to the package's path so those imports resolve.
# Safe to run concurrently: files are generated into a temporary folder and
# moved into place one by one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../protos" && pwd)
out="$here/recurrent/_gen"

command -v protoc >/dev/null ||
  { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
plugin=$(command -v grpc_python_plugin) ||
  { echo "generate.sh: grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)" >&2; exit 1; }

tmp=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
protoc -I "$protos" --python_out="$tmp" --grpc_python_out="$tmp" \
  --plugin=protoc-gen-grpc_python="$plugin" "$protos"/recurrent/v1/*.proto
touch "$tmp/recurrent/v1/__init__.py"

mkdir -p "$out/recurrent/v1"
for f in "$tmp"/recurrent/v1/*.py; do
  mv -f "$f" "$out/recurrent/v1/$(basename "$f")"
done
