#!/bin/bash
# Certifies the remote driver with udal-cts over TLS through a udal-server on 127.0.0.1
# that serves the driver named by a manifest (the CPU driver in CI).
#   certify_over_remote.sh UDAL_SERVER UDAL_CTS SERVED_MANIFEST OUT_DIR
set -u
server=$1 cts=$2 served=$3 out=$4
rm -rf "$out"
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$dir"
}
trap cleanup EXIT

# Certificates, as docs/remote.md makes them.
(
  cd "$dir" || exit 1
  ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=udal-cts-ca &&
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext &&
  openssl req $ec -keyout server.key -out server.csr -subj /CN=udal-cts-server &&
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
    -days 2 -extfile server.ext &&
  printf 'extendedKeyUsage=clientAuth\n' > client.ext &&
  openssl req $ec -keyout client.key -out client.csr -subj /CN=udal-cts &&
  openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt \
    -days 2 -extfile client.ext
) > "$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log"; echo "openssl failed"; exit 1; }

UDAL_CPU_DEVICE_COUNT=2 UDAL_DRIVER_FILES="$served" "$server" --listen 127.0.0.1:0 --cert "$dir/server.crt" \
  --key "$dir/server.key" --client-ca "$dir/ca.crt" > "$dir/server.out" 2> "$dir/server.err" &
pid=$!
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/server.out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "udal-server did not start:"; cat "$dir/server.err"; exit 1
fi

UDAL_REMOTE_SERVERS="127.0.0.1:$port" UDAL_REMOTE_CERT="$dir/client.crt" \
UDAL_REMOTE_KEY="$dir/client.key" UDAL_REMOTE_CA="$dir/ca.crt" \
  "$cts" --certify --driver remote --out "$out" --gtest_brief=1
rc=$?
if [ $rc -ne 0 ]; then
  echo "udal-cts --certify --driver remote failed ($rc); the server's log:"
  tail -n 50 "$dir/server.err"
  exit $rc
fi
grep -q '"verdict": *"PASS"' "$out/report.json" || { echo "verdict is not PASS"; exit 1; }
echo "remote driver certified: verdict PASS"
