"""HTTPS in front of the compose deployment, with the admin's own certificate (COURSEHUB_TLS=own).

The test makes a CA and a server certificate for localhost; every check below goes through a
real TLS handshake with the proxy service (docker/proxy: Caddy) to the real hub and a real
student container: login, spawn, a kernel over wss://, an upload of a few MB.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket
from composekit import ComposeHub, deployed, enrol_and_sign_up, inspect
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hubkit import Browser, spawn, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
STUDENT, PASSWORD = "alice", "alice-secret-42"


def _certificate(subject, key, issuer, issuer_key, ca: bool, extensions=()):
    """A certificate valid from a few minutes ago for one day."""
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A test CA, a server certificate it signed for localhost/127.0.0.1, and a stray key."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
    ca = _certificate(
        "coursehub test CA", ca_key, "coursehub test CA", ca_key, True, [(usage, True)]
    )
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    server_auth = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    cert = _certificate(
        "localhost", key, "coursehub test CA", ca_key, False, [(san, False), (server_auth, False)]
    )
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(_pem_key(key))
    files["key"].chmod(0o600)  # root-only, as on a real host: the unprivileged Caddy reads a copy
    files["stray_key"] = folder / "stray-key.pem"
    files["stray_key"].write_bytes(_pem_key(ec.generate_private_key(ec.SECP256R1())))
    return files


@pytest.fixture(scope="module")
def stack(pki):
    tls = {"COURSEHUB_TLS": "own", "COURSEHUB_TLS_CERT": str(pki["cert"])}
    hub = ComposeHub(env={**tls, "COURSEHUB_TLS_KEY": str(pki["key"])})
    hub.url = f"https://localhost:{hub.https_port}"
    hub.verify = str(pki["ca"])
    with deployed(hub):
        yield hub


@pytest.fixture(scope="module")
def student(stack) -> Browser:
    return enrol_and_sign_up(stack, {STUDENT: PASSWORD})[STUDENT]


@pytest.fixture(scope="module")
def spawned(stack, student) -> float:
    seconds = spawn(stack, student, STUDENT)
    print(f"spawn over HTTPS (POST server -> lab page): {seconds:.1f} s")
    return seconds


def test_the_test_ca_certificate_is_served_and_only_the_proxy_is_published(stack, pki):
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    started = time.monotonic()
    raw = socket.create_connection(("127.0.0.1", stack.https_port), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        seconds, version, peer = time.monotonic() - started, tls.version(), tls.getpeercert()
    print(f"TLS handshake (TCP connect included): {seconds * 1000:.1f} ms, {version}")
    assert ("DNS", "localhost") in peer["subjectAltName"]
    # The system's trust store does not know the test CA: it is that CA's certificate served.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(stack.url + "/hub/api/", timeout=10)
    assert requests.get(stack.url + "/hub/api/", timeout=10, verify=stack.verify).ok
    # By address: no SNI in the handshake, the certificate's IP entry verified.
    by_address = f"https://127.0.0.1:{stack.https_port}/hub/api/"
    assert requests.get(by_address, timeout=10, verify=stack.verify).ok
    hub_ports = inspect(stack.hub_container)["NetworkSettings"]["Ports"]
    assert not any(hub_ports.values()), hub_ports


def test_plain_http_redirects_to_https_and_https_sends_hsts(stack):
    plain = f"http://localhost:{stack.port}/hub/login?next=%2Fhub%2Fhome"
    answer = requests.get(plain, allow_redirects=False, timeout=10)
    assert answer.status_code == 308, answer.status_code
    assert answer.headers["Location"] == f"{stack.url}/hub/login?next=%2Fhub%2Fhome"
    followed = requests.get(plain, timeout=10, verify=stack.verify)
    assert followed.status_code == 200 and followed.url.startswith("https://")
    assert followed.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hub_cookies_are_secure(student):
    cookies = {(c.name, c.path): c.secure for c in student.s.cookies}
    hub_cookies = {key: secure for key, secure in cookies.items() if key[1].startswith("/hub")}
    assert ("jupyterhub-hub-login", "/hub/") in hub_cookies, cookies
    assert ("jupyterhub-session-id", "/") in cookies, cookies
    assert all(hub_cookies.values()) and cookies[("jupyterhub-session-id", "/")], cookies


def test_kernel_runs_code_over_wss(stack, student, spawned, pki):
    cookies = {(c.name, c.path): c.secure for c in student.s.cookies}
    assert cookies[(f"jupyterhub-user-{STUDENT}", f"/user/{STUDENT}/")], cookies
    base = f"/user/{STUDENT}/api/kernels"
    kernel = student.server_call("POST", base, json={"name": "python3"})
    assert kernel.status_code == 201, kernel.text
    path = f"{base}/{kernel.json()['id']}/channels?session_id={uuid.uuid4().hex}"
    sent = [
        f"{c.name}={c.value}" for c in student.s.cookies if c.path in ("/", f"/user/{STUDENT}/")
    ]
    started = time.monotonic()
    ws = websocket.create_connection(
        f"wss://localhost:{stack.https_port}{path}",
        sslopt={"ca_certs": str(pki["ca"])},
        origin=stack.url,
        cookie="; ".join(sent),
        timeout=120,
    )
    try:
        msg_id = _execute(ws, "import platform; print(6 * 7, platform.node())")
        outputs, reply = _collect(ws, msg_id)
    finally:
        ws.close()
    print(f"wss:// connect + execute + result: {time.monotonic() - started:.1f} s")
    assert reply["status"] == "ok", reply
    # The code ran in the student's container (its hostname is not this machine's).
    assert outputs.startswith("42 ") and outputs.split()[1] != socket.gethostname(), outputs


def _execute(ws, code: str) -> str:
    """Send an execute_request on the shell channel (Jupyter messaging 5.3); return its id."""
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "version": "5.3"}
    content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
    ws.send(json.dumps({**message, "channel": "shell", "buffers": []}))
    return msg_id


def _collect(ws, msg_id: str) -> tuple[str, dict]:
    """The stdout that request printed, and its execute_reply."""
    stdout = ""
    while True:
        message = json.loads(ws.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["header"]["msg_type"]
        if kind == "stream" and message["content"]["name"] == "stdout":
            stdout += message["content"]["text"]
        elif kind == "execute_reply":
            return stdout, message["content"]


def test_upload_of_several_megabytes_passes(student, spawned):
    data = os.urandom(5 * 2**20)
    path = f"/user/{STUDENT}/api/contents/upload.bin"
    started = time.monotonic()
    model = {"type": "file", "format": "base64", "content": base64.b64encode(data).decode()}
    saved = student.server_call("PUT", path, json=model)
    print(f"5 MiB upload (6.7 MB of JSON) over HTTPS: {time.monotonic() - started:.1f} s")
    assert saved.status_code in (200, 201), saved.text[:500]
    stored = student.server_call("GET", path, params={"content": "0"}).json()
    assert stored["size"] == len(data), stored


def test_bad_settings_fail_with_one_clear_line_and_no_restart_loop(stack, pki):
    missing = pki["cert"].parent / "missing.pem"  # Docker makes a folder of a missing source
    mounts = {"cert.pem": pki["cert"], "key.pem": pki["stray_key"]}
    own = {"COURSEHUB_TLS": "own", "COURSEHUB_HTTPS_PORT": "443"}
    own |= {"COURSEHUB_TLS_CERT": "/etc/x/cert.pem", "COURSEHUB_TLS_KEY": "/etc/x/key.pem"}
    cases = {
        "mode": ({"COURSEHUB_TLS": "https"}, {}, "COURSEHUB_TLS=https: expected off, own or acme"),
        "cert": (
            own,
            {**mounts, "cert.pem": missing},
            "COURSEHUB_TLS_CERT=/etc/x/cert.pem does not exist on the host"
            " (Docker then leaves an empty folder at that path: remove it)",
        ),
        "key": (own, mounts, "tls: private key does not match public key"),
    }
    for case, (env, files, _) in cases.items():
        command = ["docker", "run", "-d", "--restart", "unless-stopped", "--health-interval=1s"]
        command += ["--name", f"{stack.name}-proxy-{case}", "-e", "COURSEHUB_UPSTREAM=hub:8000"]
        command += [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        for name, source in files.items():
            command += ["-v", f"{source}:/etc/coursehub-proxy/tls/{name}:ro"]
        stack.run(*command, "coursehub/proxy:latest")
    for case, (_, _, reason) in cases.items():
        container = f"{stack.name}-proxy-{case}"
        wait_for(lambda c=container: _health(c) == "unhealthy", f"{container} unhealthy", 30)
        logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
        lines = (logs.stdout + logs.stderr).splitlines()
        assert len(lines) == 1 and lines[0].startswith("coursehub-proxy: ERROR: "), lines
        assert reason in lines[0], lines
        state = inspect(container)
        assert state["RestartCount"] == 0 and state["State"]["Running"], state["State"]


def _health(container: str) -> str:
    return inspect(container).get("State", {}).get("Health", {}).get("Status", "")


def test_doctor_reads_the_certificate_the_proxy_serves(stack):
    doctor = stack.cli("doctor", "--only", "deployment", check=False).stdout
    # The test certificate is valid for one day: well inside the 14-day warning.
    line = r"^WARN  TLS certificate: localhost: expires in [01] days$"
    assert re.search(line, doctor, re.M), doctor
