"""A throwaway S3-compatible server (moto) on loopback, with real auth checks.

moto accepts any credentials by default, which would hide credential bugs.
`start_s3_server()` therefore creates IAM users while auth is still open,
then switches moto's request authentication on, so afterwards:

- user "full" may do anything in S3 (`access_key_id`/`secret_access_key`);
- user "readonly" may only read and list;
- user "nolist" may write, read and delete objects but not list them;
- user "nodelete" may write, read and list but not delete;
- any other key id is rejected (InvalidAccessKeyId), a wrong secret fails
  signature checks (SignatureDoesNotMatch).

Other users can be requested with the `users` argument. Buckets are created
with `create_bucket()`; `persist_url()` names one for Materialize. `stop()`
ends the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from components.persist_url import s3_persist_url
from tests.support.net import LOOPBACK, free_port, wait_for_port

REGION = "us-east-1"
_BOOTSTRAP_CREDENTIALS = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
_START_ATTEMPTS = 3
DEFAULT_USERS: Mapping[str, Sequence[str]] = {
    "full": ["s3:*"],
    "readonly": ["s3:GetObject", "s3:ListBucket"],
    "nolist": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
    "nodelete": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
}


@dataclass
class S3Server:
    process: subprocess.Popen[bytes]
    port: int
    # user name -> (access key id, secret access key)
    users: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    region: str = REGION

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def access_key_id(self) -> str:
        return self.users["full"][0]

    @property
    def secret_access_key(self) -> str:
        return self.users["full"][1]

    def persist_url(self, bucket: str, prefix: str = "materialize/main", *, user: str = "full") -> str:
        """A persist URL for `bucket`/`prefix` with `user`'s credentials."""
        key, secret = self.users[user]
        return s3_persist_url(bucket, prefix, self.region, self.endpoint, key, secret)

    def client(self, service: str = "s3", *, user: str = "full") -> Any:
        key, secret = self.users[user]
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(s3={"addressing_style": "path"}),
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def object_keys(self, bucket: str, prefix: str = "") -> list[str]:
        response = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for item in response.get("Contents", [])]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_s3_server(timeout: float = 30.0, users: Mapping[str, Sequence[str]] = DEFAULT_USERS) -> S3Server:
    """Start moto on a free loopback port and set up users; see module doc.

    `users` maps user names to the S3 actions each may perform; it must
    include "full", which the helper methods use.
    """
    for _ in range(_START_ATTEMPTS):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = S3Server(process=process, port=port)
        if wait_for_port(port, timeout) and process.poll() is None:
            try:
                _create_users(server, users)
            except BaseException:
                server.stop()
                raise
            return server
        # Lost the port to another process (or moto died): try another.
        server.stop()
    raise RuntimeError(f"moto server did not start after {_START_ATTEMPTS} attempts")


def _create_users(server: S3Server, users: Mapping[str, Sequence[str]]) -> None:
    iam = boto3.client("iam", endpoint_url=server.endpoint, region_name=REGION, **_BOOTSTRAP_CREDENTIALS)
    for name, actions in users.items():
        server.users[name] = _user(iam, name, list(actions))
    _enable_auth(server)


def _user(iam: Any, name: str, actions: list[str]) -> tuple[str, str]:
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _enable_auth(server: S3Server) -> None:
    # moto's control endpoint: authenticate every request from now on.
    request = urllib.request.Request(
        f"{server.endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
            return
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
