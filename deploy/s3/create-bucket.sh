#!/bin/sh
# One-shot bucket set-up, idempotent (safe on every `docker compose up`). Plain S3 API calls via the AWS CLI,
# so it works against SeaweedFS, Garage, MinIO or AWS alike. Needs AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION and S3_BUCKET in the environment.
set -eu

: "${S3_BUCKET:?set MINUTES_S3_BUCKET in .env}"
: "${AWS_ENDPOINT_URL:?}"

# The server's healthcheck passed, but its filer may need a moment more before accepting bucket calls.
tries=0
until aws s3api list-buckets > /dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "S3 endpoint $AWS_ENDPOINT_URL did not accept requests" >&2
    aws s3api list-buckets  # show the actual error
    exit 1
  fi
  sleep 2
done

if aws s3api head-bucket --bucket "$S3_BUCKET" > /dev/null 2>&1; then
  echo "bucket $S3_BUCKET exists"
else
  aws s3api create-bucket --bucket "$S3_BUCKET"
  echo "bucket $S3_BUCKET created"
fi

# Bucket notifications: only MinIO (and AIStor) can publish object events to Redis, and there the target is
# server configuration (MINIO_NOTIFY_REDIS_*) plus `mc event add`; see deploy/README.md. SeaweedFS and Garage
# have no Redis target, so the ingest service finds new objects by listing (every MINUTES_RESCAN_INTERVAL_S).
