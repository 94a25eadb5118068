# PUTs the server refuses before reading their body, from boto3 (Debian's
# python3-boto3). Prints one JSON result per request: the error code, or the
# exception a broken exchange raised, and how long it took.
# usage: early_error.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET SIZE[,SIZE...]
import base64, hashlib, io, json, sys, time
import boto3, botocore, urllib3
from botocore.config import Config

urllib3.disable_warnings()
endpoint, ak, sk, bucket, sizes = sys.argv[1:6]
client = boto3.client('s3', endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk,
                      region_name='us-east-1', verify=False,
                      config=Config(retries={'max_attempts': 0}, read_timeout=60, connect_timeout=5,
                                    s3={'addressing_style': 'path'}))
send_expect = True

def expect_or_not(request, **kwargs):
    # botocore sends Expect: 100-continue with every PutObject body; a
    # presigned-URL upload or another client does not.
    if not send_expect and 'Expect' in request.headers:
        del request.headers['Expect']

client.meta.events.register('before-send.s3.PutObject', expect_or_not)
key = base64.b64encode(b'k' * 32).decode()
wrong_md5 = base64.b64encode(hashlib.md5(b'not the key').digest()).decode()
cases = {
    'ssec': dict(Bucket=bucket, SSECustomerAlgorithm='AES256', SSECustomerKey=key, SSECustomerKeyMD5=wrong_md5),
    'kms': dict(Bucket=bucket, ServerSideEncryption='aws:kms', SSEKMSKeyId='no-such-key'),
    'nobucket': dict(Bucket=bucket + '-missing'),
}
out = []
for size in (int(s) for s in sizes.split(',')):
    body = b'a' * size
    for name, kw in cases.items():
        for send_expect in (True, False):
            start = time.monotonic()
            try:
                client.put_object(Key='o', Body=body, **kw)
                res = 'OK'
            except botocore.exceptions.ClientError as e:
                res = e.response['Error']['Code']
            except Exception as e:
                res = '%s: %s' % (type(e).__name__, str(e)[:120])
            out.append(dict(case=name, size=size, expect=send_expect, result=res,
                            secs=round(time.monotonic() - start, 2)))
print(json.dumps(out))
