#!/usr/bin/env bash
# End-to-end test with the real aws CLI against a freshly built strongroom:
# mb, cp of a 20 MiB file (multipart by the CLI, checked by downloading it
# and comparing sha256), ls, sync (twice: the second uploads nothing),
# presign + curl, versioning (s3api put-bucket-versioning,
# list-object-versions), lifecycle, object lock, tags, CORS, Block Public Access,
# rm, rb.
# Any failure exits non-zero with a message; the server is killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "e2e-awscli: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
trap 'rc=$?; [ $rc -eq 0 ] || echo "e2e-awscli: FAIL: command failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2' ERR

# --- the aws CLI ---------------------------------------------------------
# A pyenv shim (e.g. /root/.pyenv/shims/aws) may shadow Debian's
# /usr/bin/aws on PATH: prefer the package's binary when it is there.
if [ -x /usr/bin/aws ]; then
  AWS=/usr/bin/aws
elif command -v aws >/dev/null 2>&1; then
  AWS=$(command -v aws)
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  step "installing awscli"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null
  AWS=/usr/bin/aws
else
  fail "the aws CLI is not installed (install the awscli package, or run as root so this script can)"
fi
command -v curl >/dev/null 2>&1 || fail "curl is not installed"
echo "aws: $AWS ($("$AWS" --version 2>&1))"

# --- a server --------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/strongroom-e2e-awscli.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step "building strongroom"
go build -o "$work/strongroom" ./cmd/strongroom

export STRONGROOM_ROOT_ACCESS_KEY=e2eawscliroot
export STRONGROOM_ROOT_SECRET_KEY=e2e-awscli-secret-key-0123456789
# 127.0.0.1:0 lets the kernel pick a free port; the server prints it.
"$work/strongroom" serve --addr 127.0.0.1:0 --data "$work/data" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
endpoint=""
for _ in $(seq 1 300); do
  endpoint=$(sed -n 's/^strongroom serving \(http[^ ]*\).*/\1/p' "$work/server.out" | head -n1)
  [ -n "$endpoint" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the server exited at start"; }
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$work/server.log" >&2; fail "the server did not print its address within 30s"; }
echo "server: $endpoint (pid $server_pid)"

# --- the CLI's environment: only what we set ------------------------------
unset AWS_CA_BUNDLE AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 || true
export AWS_ACCESS_KEY_ID=$STRONGROOM_ROOT_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$STRONGROOM_ROOT_SECRET_KEY
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$work/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials"
export AWS_PAGER=""
# No retries and a short read timeout: a request the server mishandles
# (e.g. a response the CLI cannot parse, which it would retry after its
# 60s timeout) fails the test instead of passing slowly.
cat >"$AWS_CONFIG_FILE" <<EOF
[default]
region = us-east-1
max_attempts = 1
retry_mode = standard
s3 =
    addressing_style = path
EOF
sed 's/^\(    addressing_style = path\)$/\1\n    signature_version = s3v4/' "$AWS_CONFIG_FILE" >"$work/aws-config-sigv4"
: >"$AWS_SHARED_CREDENTIALS_FILE"
aws() { "$AWS" --endpoint-url "$endpoint" --cli-read-timeout 15 --cli-connect-timeout 5 "$@"; }

bucket=e2e-awscli
sha() { sha256sum "$1" | cut -d' ' -f1; }

step "mb"
aws s3 mb "s3://$bucket"
aws s3 ls | grep -q " $bucket\$" || fail "ls does not list the new bucket"

step "cp a 20 MiB file (multipart upload)"
head -c $((20 << 20)) /dev/urandom >"$work/big.bin"
aws s3 cp --no-progress "$work/big.bin" "s3://$bucket/dir/big.bin"
etag=$(aws s3api head-object --bucket "$bucket" --key dir/big.bin --query ETag --output text)
case "$etag" in
  *-[0-9]*) echo "multipart ETag: $etag" ;;
  *) fail "expected a multipart ETag (md5-N) for the 20 MiB upload, got $etag" ;;
esac
size=$(aws s3api head-object --bucket "$bucket" --key dir/big.bin --query ContentLength --output text)
[ "$size" = $((20 << 20)) ] || fail "HEAD reports $size bytes, want $((20 << 20))"
aws s3 cp --no-progress "s3://$bucket/dir/big.bin" "$work/big.down"
[ "$(sha "$work/big.bin")" = "$(sha "$work/big.down")" ] || fail "the downloaded 20 MiB file differs from the uploaded one"

step "ls"
aws s3 ls "s3://$bucket/dir/" | grep -Eq "[[:space:]]$((20 << 20)) big.bin\$" || fail "ls does not show big.bin with its size"
aws s3 ls "s3://$bucket/" | grep -q "PRE dir/" || fail "ls does not show the dir/ prefix"

step "sync a directory"
mkdir -p "$work/tree/sub/deeper"
for f in a.txt b.bin sub/c.txt sub/deeper/d.bin "sub/e with space.txt"; do
  head -c $((RANDOM * 4 + 1)) /dev/urandom >"$work/tree/$f"
done
printf '' >"$work/tree/empty"
aws s3 sync --no-progress "$work/tree" "s3://$bucket/tree"
n=$(aws s3 ls --recursive "s3://$bucket/tree/" | wc -l)
[ "$n" -eq 6 ] || fail "after sync, $n objects under tree/, want 6"
out=$(aws s3 sync --no-progress "$work/tree" "s3://$bucket/tree")
[ -z "$out" ] || fail "a second sync of an unchanged directory uploaded again: $out"
aws s3 sync --no-progress "s3://$bucket/tree" "$work/tree.down" >/dev/null
diff -r "$work/tree" "$work/tree.down" || fail "the synced-back directory differs"
echo "changed" >>"$work/tree/a.txt"
out=$(aws s3 sync --no-progress "$work/tree" "s3://$bucket/tree")
case "$out" in
  *a.txt*) ;;
  *) fail "sync after changing a.txt did not upload it: $out" ;;
esac
[ "$(echo "$out" | grep -c upload)" -eq 1 ] || fail "sync after changing one file uploaded more: $out"

step "bucket to bucket: cp of 20 MiB (server-side multipart copy, to SSE-S3), sync, mv"
other="$bucket-b"
aws s3 mb "s3://$other"
aws s3 cp --no-progress --sse AES256 "s3://$bucket/dir/big.bin" "s3://$other/copied/big.bin"
sse=$(aws s3api head-object --bucket "$other" --key copied/big.bin --query ServerSideEncryption --output text)
[ "$sse" = AES256 ] || fail "the bucket-to-bucket copy asked for SSE-S3 and reports $sse"
aws s3 cp --no-progress "s3://$other/copied/big.bin" "$work/big.copy"
[ "$(sha "$work/big.bin")" = "$(sha "$work/big.copy")" ] || fail "the bucket-to-bucket copy of the 20 MiB file differs"
aws s3 sync --no-progress "s3://$bucket/tree" "s3://$other/tree"
n=$(aws s3 ls --recursive "s3://$other/tree/" | wc -l)
[ "$n" -eq 6 ] || fail "after a bucket-to-bucket sync, $n objects under tree/, want 6"
out=$(aws s3 sync --no-progress "s3://$bucket/tree" "s3://$other/tree")
[ -z "$out" ] || fail "a second bucket-to-bucket sync copied again: $out"
aws s3 mv --no-progress "s3://$other/copied/big.bin" "s3://$other/moved/big.bin"
if aws s3api head-object --bucket "$other" --key copied/big.bin >/dev/null 2>&1; then fail "mv left its source"; fi
aws s3 cp --no-progress "s3://$other/moved/big.bin" "$work/big.moved"
[ "$(sha "$work/big.bin")" = "$(sha "$work/big.moved")" ] || fail "the moved 20 MiB object differs"
aws s3 rm --recursive "s3://$other" >/dev/null
aws s3 rb "s3://$other"

step "sync, one request at a time: an empty object, then more on the same connection"
# The CLI sends "Expect: 100-continue" on every PUT; a server that answers
# an empty one without a 100 leaves botocore misreading the next response
# on that connection (it stalls until its read timeout).
mkdir -p "$work/seq"
: >"$work/seq/0-empty"
for i in 1 2 3; do head -c $((i * 1000)) /dev/urandom >"$work/seq/$i-data"; done
sed 's/^\(    addressing_style = path\)$/\1\n    max_concurrent_requests = 1/' "$AWS_CONFIG_FILE" >"$work/aws-config-seq"
AWS_CONFIG_FILE=$work/aws-config-seq aws s3 sync --no-progress "$work/seq" "s3://$bucket/seq" ||
  fail "sequential sync with an empty file failed (100-continue handling?)"
n=$(aws s3 ls --recursive "s3://$bucket/seq/" | wc -l)
[ "$n" -eq 4 ] || fail "after the sequential sync, $n objects under seq/, want 4"

step "presign + curl"
# The CLI's default presigned form (SigV2 query for aws CLI v1, SigV4 for
# v2), then explicitly SigV4.
for config in "$AWS_CONFIG_FILE" "$work/aws-config-sigv4"; do
  url=$(AWS_CONFIG_FILE=$config aws s3 presign "s3://$bucket/dir/big.bin" --expires-in 300)
  case "$url" in
    *X-Amz-Signature=*) form=SigV4 ;;
    *Signature=*) form=SigV2 ;;
    *) fail "unexpected presigned URL: $url" ;;
  esac
  rm -f "$work/big.presigned"
  curl -sSf -o "$work/big.presigned" "$url" || fail "curl of the $form presigned URL failed"
  [ "$(sha "$work/big.bin")" = "$(sha "$work/big.presigned")" ] || fail "the $form presigned download differs"
  # Change the signature's first character, keeping it well-formed.
  pre=${url%%Signature=*}Signature=
  sig=${url#"$pre"}
  if [ "${sig:0:1}" = 0 ]; then bad=${pre}1${sig:1}; else bad=${pre}0${sig:1}; fi
  code=$(curl -s -o /dev/null -w '%{http_code}' "$bad")
  [ "$code" = 403 ] || fail "a $form presigned URL with an altered signature got HTTP $code, want 403"
  echo "$form presigned URL: download matches, altered signature refused"
done

step "versioning: s3api put-bucket-versioning, list-object-versions"
vbucket="$bucket-ver"
aws s3 mb "s3://$vbucket"
echo legacy >"$work/v0"
aws s3api put-object --bucket "$vbucket" --key k --body "$work/v0" >/dev/null
# A bucket that never had versioning lists each object once, as null.
vid=$(aws s3api list-object-versions --bucket "$vbucket" --query 'Versions[0].VersionId' --output text)
[ "$vid" = null ] || fail "never-versioned list-object-versions: VersionId $vid, want null"
aws s3api put-bucket-versioning --bucket "$vbucket" --versioning-configuration Status=Enabled
st=$(aws s3api get-bucket-versioning --bucket "$vbucket" --query Status --output text)
[ "$st" = Enabled ] || fail "get-bucket-versioning: $st"
echo one >"$work/v1"
echo two >"$work/v2"
v1=$(aws s3api put-object --bucket "$vbucket" --key k --body "$work/v1" --query VersionId --output text)
v2=$(aws s3api put-object --bucket "$vbucket" --key k --body "$work/v2" --query VersionId --output text)
[ -n "$v1" ] && [ "$v1" != None ] && [ "$v1" != "$v2" ] || fail "put-object version IDs: '$v1' '$v2'"
aws s3api get-object --bucket "$vbucket" --key k --version-id "$v1" "$work/v1.out" >/dev/null
cmp -s "$work/v1" "$work/v1.out" || fail "get-object --version-id returned other bytes"
marker=$(aws s3api delete-object --bucket "$vbucket" --key k --query DeleteMarker --output text)
[ "$marker" = True ] || fail "delete-object on a versioned bucket: DeleteMarker $marker"
n=$(aws s3api list-object-versions --bucket "$vbucket" --query 'length(Versions)' --output text)
m=$(aws s3api list-object-versions --bucket "$vbucket" --query 'length(DeleteMarkers)' --output text)
[ "$n" = 3 ] && [ "$m" = 1 ] || fail "list-object-versions: $n versions, $m delete markers; want 3 and 1"
# One page at a time (the CLI follows NextKeyMarker/NextVersionIdMarker;
# JSON output, because the text output applies --query to each page).
n=$(aws s3api list-object-versions --bucket "$vbucket" --page-size 1 --query 'length(Versions)' --output json)
[ "$n" = 3 ] || fail "list-object-versions in pages of 1: $n versions, want 3"
for id in $(aws s3api list-object-versions --bucket "$vbucket" --query '[Versions[].VersionId, DeleteMarkers[].VersionId][]' --output text); do
  aws s3api delete-object --bucket "$vbucket" --key k --version-id "$id" >/dev/null
done
aws s3 rb "s3://$vbucket"
echo "versioning: versions, a delete marker, paging, permanent deletes"

step "lifecycle: put, get, x-amz-expiration, jobs run, delete"
cat >"$work/lifecycle.json" <<'EOF'
{"Rules": [{"ID": "tmp-expiry", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
            "Expiration": {"Days": 7},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}
EOF
aws s3api put-bucket-lifecycle-configuration --bucket "$bucket" --lifecycle-configuration "file://$work/lifecycle.json"
days=$(aws s3api get-bucket-lifecycle-configuration --bucket "$bucket" --query 'Rules[0].Expiration.Days' --output text)
[ "$days" = 7 ] || fail "get-bucket-lifecycle-configuration reads back Days=$days, want 7"
echo tmp >"$work/tmp.txt"
aws s3 cp --no-progress "$work/tmp.txt" "s3://$bucket/tmp/t.txt" >/dev/null
exp=$(aws s3api head-object --bucket "$bucket" --key tmp/t.txt --query Expiration --output text)
case "$exp" in
  *'rule-id="tmp-expiry"'*) echo "x-amz-expiration: $exp" ;;
  *) fail "head-object of a matching object has no x-amz-expiration: $exp" ;;
esac
"$work/strongroom" jobs run lifecycle --data "$work/data" | grep -q '^lifecycle ' || fail "strongroom jobs run lifecycle failed"
aws s3api head-object --bucket "$bucket" --key tmp/t.txt >/dev/null || fail "a pass expired an object before its days"
aws s3api delete-bucket-lifecycle --bucket "$bucket"
if aws s3api get-bucket-lifecycle-configuration --bucket "$bucket" 2>"$work/lc.err"; then fail "lifecycle still there after delete"; fi
grep -q NoSuchLifecycleConfiguration "$work/lc.err" || fail "get after delete: $(cat "$work/lc.err")"
aws s3 rm "s3://$bucket/tmp/t.txt" >/dev/null
step "object lock: bucket, default retention, governance bypass, compliance"
lbucket="$bucket-lock"
aws s3api create-bucket --bucket "$lbucket" --object-lock-enabled-for-bucket >/dev/null
st=$(aws s3api get-bucket-versioning --bucket "$lbucket" --query Status --output text)
[ "$st" = Enabled ] || fail "an object-lock bucket is not versioned: $st"
aws s3api put-object-lock-configuration --bucket "$lbucket" \
  --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":1}}}'
mode=$(aws s3api get-object-lock-configuration --bucket "$lbucket" --query ObjectLockConfiguration.Rule.DefaultRetention.Mode --output text)
[ "$mode" = GOVERNANCE ] || fail "get-object-lock-configuration: mode $mode"
echo locked >"$work/locked.txt"
lv=$(aws s3api put-object --bucket "$lbucket" --key g --body "$work/locked.txt" --query VersionId --output text)
mode=$(aws s3api get-object-retention --bucket "$lbucket" --key g --version-id "$lv" --query Retention.Mode --output text)
[ "$mode" = GOVERNANCE ] || fail "the default retention was not applied: $mode"
if aws s3api delete-object --bucket "$lbucket" --key g --version-id "$lv" 2>"$work/lock.err"; then
  fail "a GOVERNANCE-locked version was deleted without the bypass"
fi
grep -q AccessDenied "$work/lock.err" || fail "delete of a locked version: $(cat "$work/lock.err")"
aws s3api delete-object --bucket "$lbucket" --key g --version-id "$lv" --bypass-governance-retention >/dev/null
until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
cv=$(aws s3api put-object --bucket "$lbucket" --key c --body "$work/locked.txt" \
  --object-lock-mode COMPLIANCE --object-lock-retain-until-date "$until" --query VersionId --output text)
if aws s3api delete-object --bucket "$lbucket" --key c --version-id "$cv" --bypass-governance-retention 2>/dev/null; then
  fail "a COMPLIANCE-locked version was deleted"
fi
if aws s3api delete-bucket --bucket "$lbucket" 2>/dev/null; then fail "a bucket holding a locked version was deleted"; fi
echo "object lock: governance bypass works, compliance holds, bucket kept (left for the test's cleanup)"

step "tags, CORS, Block Public Access, object attributes"
printf 'tagged' >"$work/tagged.txt"
aws s3api put-object --bucket "$bucket" --key tagged.txt --body "$work/tagged.txt" --tagging 'team=blue&tier=hot' >/dev/null
tags=$(aws s3api get-object-tagging --bucket "$bucket" --key tagged.txt --query 'TagSet[].[Key,Value]' --output text | tr '\t\n' '=;')
[ "$tags" = "team=blue;tier=hot;" ] || fail "get-object-tagging after put-object --tagging: $tags"
aws s3api put-object-tagging --bucket "$bucket" --key tagged.txt --tagging 'TagSet=[{Key=env,Value=prod}]'
tags=$(aws s3api get-object-tagging --bucket "$bucket" --key tagged.txt --query 'TagSet[].[Key,Value]' --output text | tr '\t' '=')
[ "$tags" = "env=prod" ] || fail "get-object-tagging after put-object-tagging: $tags"
n=$(aws s3api get-object-attributes --bucket "$bucket" --key tagged.txt --object-attributes ObjectSize --query ObjectSize --output text)
[ "$n" = 6 ] || fail "get-object-attributes ObjectSize: $n"
aws s3api put-bucket-cors --bucket "$bucket" --cors-configuration \
  '{"CORSRules":[{"AllowedOrigins":["https://app.example"],"AllowedMethods":["GET"],"MaxAgeSeconds":60}]}'
origin=$(curl -s -o /dev/null -D - -X OPTIONS -H 'Origin: https://app.example' -H 'Access-Control-Request-Method: GET' \
  "$endpoint/$bucket/tagged.txt" | tr -d '\r' | sed -n 's/^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: //p')
[ "$origin" = "https://app.example" ] || fail "preflight after put-bucket-cors: Access-Control-Allow-Origin $origin"
aws s3api delete-bucket-cors --bucket "$bucket"
aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
if aws s3api put-object-acl --bucket "$bucket" --key tagged.txt --acl public-read 2>/dev/null; then
  fail "put-object-acl public-read succeeded with BlockPublicAcls"
fi
aws s3api delete-public-access-block --bucket "$bucket"
aws s3 rm "s3://$bucket/tagged.txt"

step "rm"
aws s3 rm "s3://$bucket/dir/big.bin"
aws s3 rm --recursive "s3://$bucket/tree"
aws s3 rm --recursive "s3://$bucket/seq"
left=$(aws s3 ls --recursive "s3://$bucket/" | wc -l)
[ "$left" -eq 0 ] || fail "$left objects left after rm"

step "rb"
aws s3 rb "s3://$bucket"
if aws s3 ls | grep -q " $bucket\$"; then fail "the bucket is still listed after rb"; fi
if aws s3api head-bucket --bucket "$bucket" 2>/dev/null; then fail "head-bucket succeeds after rb"; fi

kill -0 "$server_pid" 2>/dev/null || fail "the server died during the test"
if grep -q "level=ERROR" "$work/server.log"; then
  echo "server errors:" >&2; grep "level=ERROR" "$work/server.log" >&2
  fail "the server logged errors"
fi
echo "e2e-awscli: all passed"
