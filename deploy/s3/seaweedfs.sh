#!/bin/sh
# Start SeaweedFS (master + volume + filer + S3 gateway in one process) with one S3 identity from the
# environment. The identity file is written at start-up so the secret lives only in .env, never in git.
set -eu

: "${S3_ACCESS_KEY_ID:?set S3_ACCESS_KEY_ID in .env}"
: "${S3_SECRET_ACCESS_KEY:?set S3_SECRET_ACCESS_KEY in .env}"
case "$S3_ACCESS_KEY_ID$S3_SECRET_ACCESS_KEY" in
  *[!A-Za-z0-9._~+/=-]*) echo "S3 keys may only contain A-Z a-z 0-9 . _ ~ + / = -" >&2; exit 1 ;;
esac

umask 077
cat > /tmp/s3.json <<JSON
{
  "identities": [
    {
      "name": "minutes",
      "credentials": [{"accessKey": "${S3_ACCESS_KEY_ID}", "secretKey": "${S3_SECRET_ACCESS_KEY}"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
JSON

exec weed server \
  -dir=/data \
  -ip.bind=0.0.0.0 \
  -master.volumeSizeLimitMB=1024 \
  -volume.max=0 \
  -s3 \
  -s3.port=8333 \
  -s3.config=/tmp/s3.json
