"""docs/deploy/nginx-fpgrade.conf, as written, in front of a real ``fpgrade label`` (issue 16).

The file's names and paths are replaced by a free port, a self-signed certificate and the
server's address; everything else runs as the deployment would: login through HTTPS with the
browser's ``Origin``, a Secure cookie, the page and an event through the proxy (Gradio's event
stream), the client address the throttle sees.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bench.labelling_load import PASSWORD, prepare, serve
from bench.machine import free_port
from tests.test_web_security import COOKIE, fast_user

ROOT = Path(__file__).resolve().parents[1]
SNIPPET = ROOT / "docs" / "deploy" / "nginx-fpgrade.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not Path(NGINX).exists() or not shutil.which("openssl"),
    reason="nginx or openssl not installed (apt-get install nginx-light openssl; `make test` "
           "installs them when run as root)")]


def nginx_config(folder: Path, port: int, upstream: str) -> Path:
    """The documented server block with its placeholders replaced, inside a minimal nginx.conf."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server = SNIPPET.read_text()
    for old, new in [("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
                     ("/etc/ssl/certs/fpgrade.example.org.pem", str(cert)),
                     ("/etc/ssl/private/fpgrade.example.org.key", str(key)),
                     ("http://127.0.0.1:7861", upstream.rstrip("/"))]:
        assert old in server, f"the documented snippet no longer has {old!r}"
        server = server.replace(old, new)
    for sub in ("logs", "tmp"):
        (folder / sub).mkdir(exist_ok=True)
    config = folder / "nginx.conf"
    config.write_text(f"""daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/logs/access.log;
    client_body_temp_path {folder}/tmp/body;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;
{server}
}}
""")
    return config


def test_the_documented_nginx_proxy_serves_the_pages_over_tls(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'tls.db'}"
    campaign = prepare(url, tmp_path / "media", 1, 2)
    fast_user(url, "ann", "admin")
    monkeypatch.setenv("FPGRADE_SECURE_COOKIES", "true")
    with serve(url, tmp_path) as upstream:
        port = free_port()
        config = nginx_config(tmp_path, port, upstream)
        proxy = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(config)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            site = f"https://127.0.0.1:{port}/"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(site + "login", verify=False, timeout=5)
                    break
                except httpx.TransportError:
                    assert proxy.poll() is None, proxy.stderr.read().decode()
                    assert time.monotonic() < deadline, "nginx did not answer"
                    time.sleep(0.2)
            form = httpx.post(site + "login", data={"username": "ann", "password": PASSWORD},
                              headers={"Origin": f"https://127.0.0.1:{port}",
                                       "Accept": "text/html"}, verify=False, timeout=60)
            assert form.status_code == 303, form.text
            assert "secure" in form.headers["set-cookie"].lower()
            token = form.cookies[COOKIE]
            page = httpx.get(site, cookies={COOKIE: token}, verify=False, timeout=60)
            assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
            from gradio_client import Client

            # a whole event through the proxy (queue join, then its event stream)
            admin = Client(site, auth=("ann", PASSWORD), ssl_verify=False, verbose=False,
                           download_files=False, analytics_enabled=False)
            assert "ann" in admin.predict(api_name="/whoami")[0]
            assert ["ann", "admin", "active"] in admin.predict(api_name="/users")[0]["data"]
            # the throttle sees the client's address as nginx set it, not a header it sent
            for _ in range(6):
                httpx.post(site + "login", data={"username": "nobody", "password": "x"},
                           headers={"X-Forwarded-For": "192.0.2.1"}, verify=False, timeout=60)
            from fpgrade.storage import database
            from fpgrade.storage.tables import AuditEvent
            from sqlmodel import select

            with database.session(url) as session:
                failed = session.exec(select(AuditEvent).where(
                    AuditEvent.action == "login_failed")).all()
            assert failed and {e.details["client"] for e in failed} == {"127.0.0.1"}
            assert campaign
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
