"""Helpers for the self-hosting tests: the real ``tchat-server`` process (settings
through ``TCHAT_*`` variables), HTTP on the server's port, a self-signed certificate."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER = [sys.executable, "-m", "tchat_server"]
ROOT = Path(__file__).resolve().parents[2]

CHEAP = {
    "TCHAT_ARGON2_TIME_COST": "1",
    "TCHAT_ARGON2_MEMORY_KIB": "1024",
    "TCHAT_ARGON2_PARALLELISM": "1",
    "TCHAT_RATE_PER_SECOND": "100000",
    "TCHAT_RATE_BURST": "100000",
}
"""Cheap password hashing and no per-connection rate limit, as environment settings."""


def server_env(**settings: str) -> dict[str, str]:
    """This process's environment without any ``TCHAT_*`` variable, plus ``CHEAP`` and
    ``settings`` (``port="0"`` becomes ``TCHAT_PORT=0``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCHAT_")}
    env.update(CHEAP)
    env.update({f"TCHAT_{key.upper()}": value for key, value in settings.items()})
    return env


async def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> tuple[int, str, str]:
    """Run a ``tchat-server`` command to completion: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *SERVER,
        *args,
        env=env if env is not None else server_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


class ServerProcess:
    """A running ``tchat-server serve``; its stdout and stderr lines are collected."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._changed = asyncio.Condition()
        self._readers = [
            asyncio.get_running_loop().create_task(self._collect(name, stream))
            for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))
            if stream is not None
        ]
        self.url = ""

    async def _collect(self, name: str, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            async with self._changed:
                self.lines[name].append(line.decode().rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self.lines[name].append("")  # end of stream
            self._changed.notify_all()

    async def wait_for(self, stream: str, pattern: str, timeout: float = 30) -> re.Match[str]:  # noqa: ASYNC109
        """The first line of ``stream`` that matches ``pattern`` (waits for it)."""
        compiled = re.compile(pattern)
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for line in self.lines[stream]:
                    if found := compiled.search(line):
                        return found
                if self.lines[stream] and self.lines[stream][-1] == "":
                    raise AssertionError(f"{stream} ended without {pattern!r}: {self.lines}")
                await self._changed.wait()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def json_logs(self) -> list[dict[str, object]]:
        """Every stderr line, parsed as JSON (fails on a line that is not)."""
        return [json.loads(line) for line in self.lines["stderr"] if line]

    async def finish(self, timeout: float = 30) -> int:  # noqa: ASYNC109
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.gather(*self._readers)
        return code


Spawn = Callable[..., Awaitable[ServerProcess]]


@pytest.fixture
async def spawn() -> AsyncIterator[Spawn]:
    """Start ``tchat-server serve`` processes on port 0; kill leftovers at teardown.

    ``await spawn(data_dir, *flags, env=server_env(...))``: returns once the server
    says where it listens (stdout in text mode, a JSON record on stderr otherwise).
    """
    started: list[ServerProcess] = []

    async def start(
        data_dir: Path, *flags: str, env: dict[str, str] | None = None
    ) -> ServerProcess:
        proc = await asyncio.create_subprocess_exec(
            *SERVER,
            "--data-dir",
            str(data_dir),
            "serve",
            "--port",
            "0",
            *flags,
            env=env if env is not None else server_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        server = ServerProcess(proc)
        started.append(server)
        json_logs = "json" in flags or (env or {}).get("TCHAT_LOG_FORMAT") == "json"
        stream = "stderr" if json_logs else "stdout"
        found = await server.wait_for(stream, r"listening on (wss?://127\.0\.0\.1:\d+)")
        server.url = found.group(1)
        return server

    yield start
    for server in started:
        if server.proc.returncode is None:
            server.proc.kill()
        with contextlib.suppress(Exception):
            await server.finish()


async def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, tls: ssl.SSLContext | None = None
) -> tuple[int, dict[str, str], str]:
    """One HTTP/1.1 GET on the server's port: (status, headers, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n"
    writer.write(request.encode())
    await writer.drain()
    response = (await asyncio.wait_for(reader.read(), 10)).decode()
    writer.close()
    with contextlib.suppress(ssl.SSLError, ConnectionError):
        await writer.wait_closed()
    head, _, body = response.partition("\r\n\r\n")
    status_line, *header_lines = head.split("\r\n")
    parsed = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split(" ", 2)[1]), parsed, body


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    authority: Path
    """What a client must trust: the certificate itself when it is self-signed."""

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this certificate's authority."""
        return ssl.create_default_context(cafile=str(self.authority))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost: made with the
    ``cryptography`` package if installed, else the ``openssl`` command, else trustme."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    if importlib.util.find_spec("cryptography") is not None:
        _with_cryptography(cert, key)
    elif shutil.which("openssl"):
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
    else:
        trustme = pytest.importorskip("trustme", reason="no cryptography, openssl or trustme")
        authority = trustme.CA()
        issued = authority.issue_cert("127.0.0.1", "localhost")
        issued.private_key_pem.write_to_path(str(key))
        issued.cert_chain_pems[0].write_to_path(str(cert))
        authority.cert_pem.write_to_path(str(folder / "ca.pem"))
        return Certificate(cert, key, folder / "ca.pem")
    return Certificate(cert, key, cert)


def _with_cryptography(
    cert_path: Path, key_path: Path
) -> None:  # pragma: no cover - not installed here
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
