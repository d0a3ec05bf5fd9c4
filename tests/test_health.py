"""`coursehub doctor`'s deployment checks against real sockets, files and a TLS server."""

from __future__ import annotations

import socket
import sqlite3
import ssl
import threading
from datetime import UTC, datetime, timedelta

import pytest
from coursehub import health
from coursehub.settings import load_settings
from hubkit import free_port_block


def settings(tmp_path, **env):
    return load_settings({"COURSEHUB_DATA_DIR": str(tmp_path), **env}, dotenv=tmp_path / "none")


def test_hub_proxy_and_formgrader_fail_with_the_reason_when_nothing_listens(tmp_path):
    s = settings(tmp_path, COURSEHUB_PORT=str(free_port_block(3)))
    hub, proxy = health.check_hub(s, "token"), health.check_proxy(s)
    formgrader = health.check_formgrader(s, "pytorch101")
    for check in (hub, proxy, formgrader):
        assert check.status == "FAIL" and "connection refused" in check.detail, check.line()


def test_database_check_counts_rows_and_never_creates_a_missing_sqlite_file(tmp_path):
    missing = tmp_path / "gone.sqlite"
    check = health.check_database("hub database", f"sqlite:///{missing}", "select 1", "x")
    assert check.status == "FAIL" and "does not exist" in check.detail
    assert not missing.exists()
    db = tmp_path / "hub.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table users (name text)")
        conn.executemany("insert into users values (?)", [("a",), ("b",)])
    check = health.check_database(
        "hub database", f"sqlite:///{db}", "select count(*) from users", "users"
    )
    assert check.status == "PASS" and check.detail.endswith(": 2 users"), check.line()
    broken = health.check_database("gradebook", f"sqlite:///{db}", "select * from nope", "x")
    assert broken.status == "FAIL" and "no such table" in broken.detail, broken.line()


def test_docker_volume_sizes_are_parsed():
    assert health._size_bytes("1.5GB") == 1_500_000_000
    assert health._size_bytes("12kB") == 12_000
    assert health._size_bytes("0B") == 0


def test_disk_check_does_not_follow_a_students_link(tmp_path):
    home = tmp_path / "homes" / "alice"
    home.mkdir(parents=True)
    (home / "notes.txt").write_bytes(b"x" * 1000)
    big = tmp_path / "elsewhere.bin"
    big.write_bytes(b"y" * 10_000_000)
    (home / "link").symlink_to(big)
    check = health.check_disk("homes", tmp_path / "homes")
    assert check.status in ("PASS", "WARN") and check.detail.startswith("0.0 GiB used")
    assert health._tree_bytes(tmp_path / "homes") < 2000


def serve_certificate(tmp_path, not_after: datetime) -> int:
    """A TLS server on loopback presenting a self-signed certificate; its port."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "course.example.org")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=400))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))

    def accept_one():
        conn, _ = listener.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()
        listener.close()

    threading.Thread(target=accept_one, daemon=True).start()
    return listener.getsockname()[1]


@pytest.mark.parametrize(
    ("days", "status"), [(90, "PASS"), (5, "WARN"), (-3, "FAIL")], ids=["fresh", "soon", "expired"]
)
def test_tls_check_reads_the_served_certificates_expiry(tmp_path, days, status):
    port = serve_certificate(tmp_path, datetime.now(UTC) + timedelta(days=days, hours=1))
    s = settings(
        tmp_path,
        COURSEHUB_TLS="own",
        COURSEHUB_DOMAIN="course.example.org",
        COURSEHUB_TLS_CHECK_ADDRESS=f"127.0.0.1:{port}",
    )
    check = health.check_tls(s)
    assert check.status == status, check.line()
    assert "course.example.org" in check.detail


def test_tls_check_is_skipped_on_plain_http_and_fails_when_nothing_answers(tmp_path):
    assert health.check_tls(settings(tmp_path)).status == "SKIP"
    closed = free_port_block(1)
    s = settings(
        tmp_path,
        COURSEHUB_TLS="own",
        COURSEHUB_DOMAIN="",  # compose passes an unset knob as empty
        COURSEHUB_TLS_CHECK_ADDRESS=f"127.0.0.1:{closed}",
    )
    check = health.check_tls(s)
    assert check.status == "FAIL" and "connection refused" in check.detail.lower(), check.line()
