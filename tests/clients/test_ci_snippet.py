"""The README's GitHub Actions job, run as written: the shell lines between its
`# --- start strict-s3 ---` and `# --- end ---` markers start the server in the background
with --ready-file, wait for the file, and export the endpoint to $GITHUB_ENV. Here they run
with a real GITHUB_ENV file and RUNNER_TEMP directory, `strict-s3` on PATH being this build;
the exported endpoint must answer S3 (with the exported credentials), and a missing file
must fail the step."""

from __future__ import annotations

import os
import re
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

from conftest import REPO_ROOT, server_binary


def snippet() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    m = re.search(r"# --- start strict-s3 ---\n(.*?)\n\s*# --- end ---", text, re.S)
    assert m, "the README has no CI snippet between the markers"
    return "\n".join(line.strip() for line in m.group(1).splitlines())


def run_snippet(tmp_path, binary_dir):
    env_file = tmp_path / "github_env"
    env_file.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    env.update(PATH=f"{binary_dir}:{env['PATH']}", RUNNER_TEMP=str(tmp_path), GITHUB_ENV=str(env_file))
    # The snippet's server outlives the shell (it is started with &): its own process
    # group lets the test stop it.
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", snippet()], env=env, capture_output=True,
                          text=True, timeout=60, start_new_session=True)
    return proc, env_file


def test_the_readme_ci_snippet_starts_the_server_and_exports_its_endpoint(tmp_path):
    binary_dir = tmp_path / "bin"
    binary_dir.mkdir()
    (binary_dir / "strict-s3").symlink_to(server_binary())
    proc, env_file = run_snippet(tmp_path, binary_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    exported = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    ready = (tmp_path / "s3.ready").read_text()
    assert ready.endswith("\n") and exported["AWS_ENDPOINT_URL"] == ready.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exported["AWS_ENDPOINT_URL"]), exported
    s3 = boto3.client("s3", endpoint_url=exported["AWS_ENDPOINT_URL"],
                      aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
                      region_name=exported["AWS_REGION"],
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    try:
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["uploads"]
        s3.put_object(Bucket="uploads", Key="k", Body=b"v")
        assert s3.get_object(Bucket="uploads", Key="k")["Body"].read() == b"v"
        wrong = boto3.client("s3", endpoint_url=exported["AWS_ENDPOINT_URL"], aws_access_key_id="AKIAWRONG",
                             aws_secret_access_key="x", region_name="us-east-1",
                             config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        with pytest.raises(Exception) as e:
            wrong.list_buckets()
        assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    finally:
        out = subprocess.run(["pkill", "-TERM", "-f", f"ready-file {tmp_path}/s3.ready"], check=False)
        assert out.returncode == 0, "the snippet's server was running"
    # A graceful stop removes the ready file.
    for _ in range(100):
        if not (tmp_path / "s3.ready").exists():
            break
        time.sleep(0.05)
    assert not (tmp_path / "s3.ready").exists()


def test_the_snippet_fails_when_the_server_cannot_start(tmp_path):
    binary_dir = tmp_path / "bin"
    binary_dir.mkdir()
    fake = binary_dir / "strict-s3"
    fake.write_text("#!/bin/sh\necho 'strict-s3: cannot bind' >&2\nexit 1\n")
    fake.chmod(0o755)
    proc, env_file = run_snippet(tmp_path, binary_dir)
    assert proc.returncode != 0
    assert "cannot bind" in proc.stdout + proc.stderr
    assert env_file.read_text() == ""
