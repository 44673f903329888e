"""A real Kubernetes API server for tests: etcd plus kube-apiserver on loopback ports.

The binaries come from ``scripts/build-kubernetes.sh``: kube-apiserver is built from
Debian's ``kubernetes`` source package and cached under
``${SOUK_ENVTEST_CACHE:-~/.cache/souk-envtest}/<version>/kube-apiserver``; etcd is Debian's
``etcd-server``; kubectl and helm sit in ``<cache>/bin``.

No controller-manager, scheduler or kubelet runs, so nothing reconciles Deployments, creates
``default`` ServiceAccounts or runs pods. What the API server does on its own works: storage,
validation, RBAC, admission, CRDs (including their ``Established`` condition), the status
subresource, watches, server-side apply and the TokenRequest API, which is how
:meth:`ApiServer.token_for` gets ServiceAccount tokens for RBAC tests.

Usage::

    with ApiServer() as server:
        api = kubernetes.client.CoreV1Api(server.api_client())
        token = server.token_for("operator", "souk-system")
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from kubernetes import client as k8s

from tests.envtest.binaries import (
    find_etcd,
    find_kube_apiserver,
)
from tests.envtest.certificates import write_certificates

BUILD_SCRIPT = "scripts/build-kubernetes.sh"
ADMIN_USER = "souk-envtest-admin"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"


class EnvtestError(RuntimeError):
    """The envtest API server could not be found, started or used."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_TEMP_PREFIX = "souk-envtest-"
_OWNER_FILE = "owner.pid"


def _shm_dir() -> Path | None:
    """Return ``/dev/shm`` when it is a writable tmpfs directory, else None."""
    shm = Path("/dev/shm")  # noqa: S108 - only private mkdtemp directories go inside
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def _owned_tempdir(prefix: str, parent: Path | None) -> Path:
    """Create a private temporary directory that records the pid of its owner."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (path / _OWNER_FILE).write_text(str(os.getpid()))
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_workdirs(min_age_seconds: float = 60.0) -> list[Path]:
    """Remove envtest directories left behind by owners that died without :meth:`stop`.

    The processes themselves die with their owner (see ``_die_with_parent``), but a killed
    test run cannot remove its files; the next start does. Returns what it removed.
    """
    removed = []
    now = time.time()
    parents = {Path(tempfile.gettempdir()), *filter(None, [_shm_dir()])}
    for parent in parents:
        for path in parent.glob(f"{_TEMP_PREFIX}*"):
            owner = path / _OWNER_FILE
            try:
                if now - path.stat().st_mtime < min_age_seconds or not owner.is_file():
                    continue
                if _pid_alive(int(owner.read_text().strip() or "0")):
                    continue
            except (OSError, ValueError):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGKILL this child when the process that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class ApiServer:
    """etcd plus kube-apiserver on free loopback ports, with an admin token and kubeconfig.

    Start with :meth:`start` (or ``with ApiServer() as server``); :meth:`stop` kills both
    processes and removes every temporary file. The admin user is in ``system:masters``.
    Started from the main thread, both processes are also killed by the kernel if the owning
    process dies without :meth:`stop`; the next start removes the files such a death leaves.
    """

    def __init__(
        self,
        kube_apiserver: Path | None = None,
        etcd: Path | None = None,
        start_timeout: float = 60.0,
        extra_args: list[str] | None = None,
    ) -> None:
        """Prepare (not start) a server; binaries default to the envtest cache and PATH."""
        self.kube_apiserver = kube_apiserver or find_kube_apiserver()
        self.etcd = etcd or find_etcd()
        self.start_timeout = start_timeout
        self.extra_args = list(extra_args or [])
        self.admin_token = secrets.token_urlsafe(32)
        self.workdir: Path | None = None
        self.etcd_dir: Path | None = None
        self.etcd_url = ""
        self.url = ""
        self.port = 0
        self.ca_file = Path()
        self.admin_kubeconfig = Path()
        self.startup_seconds = 0.0
        self._etcd_proc: subprocess.Popen[bytes] | None = None
        self._apiserver_proc: subprocess.Popen[bytes] | None = None
        self._log_files: list[Any] = []

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> ApiServer:
        """Start etcd and kube-apiserver and wait until ``/readyz`` answers ok."""
        if self.kube_apiserver is None or not self.kube_apiserver.is_file():
            raise EnvtestError(f"envtest: kube-apiserver not built; run {BUILD_SCRIPT}")
        if self.etcd is None or not self.etcd.is_file():
            raise EnvtestError(f"envtest: etcd not installed; run {BUILD_SCRIPT}")
        started = time.monotonic()
        remove_stale_workdirs()
        self.workdir = _owned_tempdir(_TEMP_PREFIX, None)
        # etcd fsyncs every write; on tmpfs that costs nothing, which keeps tests quick.
        self.etcd_dir = _owned_tempdir(f"{_TEMP_PREFIX}etcd-", _shm_dir())
        try:
            self._start_etcd()
            self._start_apiserver()
            self._write_admin_kubeconfig()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stop kube-apiserver and etcd, and remove the temporary directories."""
        for proc in (self._apiserver_proc, self._etcd_proc):
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._apiserver_proc = None
        self._etcd_proc = None
        for handle in self._log_files:
            handle.close()
        self._log_files.clear()
        for directory in (self.workdir, self.etcd_dir):
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
        self.workdir = None
        self.etcd_dir = None

    @property
    def running(self) -> bool:
        """True while both processes are alive."""
        return all(
            p is not None and p.poll() is None for p in (self._etcd_proc, self._apiserver_proc)
        )

    def log_tail(self, name: str = "kube-apiserver", lines: int = 30) -> str:
        """Return the last lines of ``kube-apiserver`` or ``etcd`` output, for error messages."""
        if self.workdir is None:
            return ""
        path = self.workdir / f"{name}.log"
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        assert self.workdir is not None
        log = (self.workdir / f"{name}.log").open("wb")
        self._log_files.append(log)
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
            # PDEATHSIG follows the *thread* that forks; started from a worker thread (for
            # example asyncio.to_thread) the server would die with that thread, so only the
            # main thread asks for it.
            preexec_fn=(
                _die_with_parent if threading.current_thread() is threading.main_thread() else None
            ),
        )

    def _start_etcd(self) -> None:
        assert self.etcd is not None
        assert self.etcd_dir is not None
        for _attempt in range(3):
            client_port, peer_port = free_port(), free_port()
            client_url = f"http://127.0.0.1:{client_port}"
            peer_url = f"http://127.0.0.1:{peer_port}"
            data_dir = self.etcd_dir / f"data-{client_port}"
            self._etcd_proc = self._spawn(
                "etcd",
                [
                    str(self.etcd),
                    "--name=envtest",
                    f"--data-dir={data_dir}",
                    f"--listen-client-urls={client_url}",
                    f"--advertise-client-urls={client_url}",
                    f"--listen-peer-urls={peer_url}",
                    f"--initial-advertise-peer-urls={peer_url}",
                    f"--initial-cluster=envtest={peer_url}",
                    "--initial-cluster-state=new",
                    "--logger=zap",
                    "--log-level=warn",
                    "--snapshot-count=10000",
                ],
            )
            if self._wait_http(f"{client_url}/health", self._etcd_proc, expect='"health":"true"'):
                self.etcd_url = client_url
                return
            # A port taken between free_port() and etcd's bind: retry on fresh ports.
            if self._etcd_proc.poll() is None:
                self._etcd_proc.kill()
                self._etcd_proc.wait()
        raise EnvtestError(f"envtest: etcd did not become healthy:\n{self.log_tail('etcd')}")

    def _start_apiserver(self) -> None:
        assert self.kube_apiserver is not None
        assert self.workdir is not None
        pki = self.workdir / "pki"
        pki.mkdir()
        certs = write_certificates(pki)
        self.ca_file = certs["ca"]
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        tokens.chmod(0o600)
        for _attempt in range(3):
            self.port = free_port()
            self.url = f"https://127.0.0.1:{self.port}"
            argv = [
                str(self.kube_apiserver),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                "--insecure-port=0",
                f"--cert-dir={pki}",
                f"--tls-cert-file={certs['serving_cert']}",
                f"--tls-private-key-file={certs['serving_key']}",
                f"--client-ca-file={certs['ca']}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={certs['sa_pub']}",
                f"--service-account-signing-key-file={certs['sa_key']}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--endpoint-reconciler-type=none",
                # No token controller runs, so the ServiceAccount admission plugin would refuse
                # every pod ("no API token found for service account default").
                "--disable-admission-plugins=ServiceAccount",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
                *self.extra_args,
            ]
            self._apiserver_proc = self._spawn("kube-apiserver", argv)
            if self._wait_http(f"{self.url}/readyz", self._apiserver_proc, expect="ok"):
                return
            if self._apiserver_proc.poll() is None:
                break  # alive but never ready: a real problem, not a port race
            if "address already in use" not in self.log_tail(lines=200):
                break
        raise EnvtestError(
            f"envtest: kube-apiserver did not become ready within {self.start_timeout:.0f}s:\n"
            f"{self.log_tail()}"
        )

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def _wait_http(self, url: str, proc: subprocess.Popen[bytes], expect: str) -> bool:
        """Poll ``url`` until its body contains ``expect``; False if ``proc`` exits first."""
        deadline = time.monotonic() + self.start_timeout
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        context = self._ssl_context() if url.startswith("https") else None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback URL
            try:
                with urllib.request.urlopen(request, timeout=2, context=context) as response:  # noqa: S310
                    if expect in response.read().decode(errors="replace"):
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        return False

    # -- clients and credentials -----------------------------------------------------------

    def kubeconfig(self, token: str, user: str, namespace: str = "default") -> dict[str, Any]:
        """Return a kubeconfig (as a dict) for this server with ``token`` as credentials."""
        ca_data = base64.b64encode(self.ca_file.read_bytes()).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "envtest",
                    "cluster": {"server": self.url, "certificate-authority-data": ca_data},
                }
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [
                {
                    "name": f"{user}@envtest",
                    "context": {"cluster": "envtest", "user": user, "namespace": namespace},
                }
            ],
            "current-context": f"{user}@envtest",
            "preferences": {},
        }

    def write_kubeconfig(
        self, path: Path, token: str, user: str, namespace: str = "default"
    ) -> Path:
        """Write a kubeconfig for ``token`` to ``path`` (mode 0600) and return the path."""
        path.write_text(yaml.safe_dump(self.kubeconfig(token, user, namespace), sort_keys=False))
        path.chmod(0o600)
        return path

    def _write_admin_kubeconfig(self) -> None:
        assert self.workdir is not None
        self.admin_kubeconfig = self.write_kubeconfig(
            self.workdir / "admin.kubeconfig", self.admin_token, ADMIN_USER
        )

    def api_client(self, token: str | None = None) -> k8s.ApiClient:
        """Return a ``kubernetes`` client for the admin, or for ``token`` when given."""
        configuration = k8s.Configuration()
        configuration.host = self.url
        configuration.ssl_ca_cert = str(self.ca_file)
        configuration.verify_ssl = True
        configuration.api_key = {"authorization": token or self.admin_token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        return k8s.ApiClient(configuration)

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        """Return ``os.environ`` plus ``KUBECONFIG`` (admin by default) for subprocesses."""
        return {**os.environ, "KUBECONFIG": str(kubeconfig or self.admin_kubeconfig)}

    def ensure_namespace(self, namespace: str) -> None:
        """Create ``namespace`` unless it exists."""
        with self.api_client() as api:
            core = k8s.CoreV1Api(api)
            try:
                core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
            except k8s.ApiException as exc:
                if exc.status != 409:
                    raise

    def token_for(
        self,
        service_account: str,
        namespace: str,
        *,
        expiration_seconds: int = 3600,
        audiences: list[str] | None = None,
    ) -> str:
        """Return a token for ``namespace/service_account`` from the TokenRequest API.

        The namespace and the ServiceAccount are created when missing (no controller-manager
        runs, so nothing else would). The token is subject to RBAC like any other.
        """
        self.ensure_namespace(namespace)
        with self.api_client() as api:
            core = k8s.CoreV1Api(api)
            try:
                core.create_namespaced_service_account(
                    namespace,
                    k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name=service_account)),
                )
            except k8s.ApiException as exc:
                if exc.status != 409:
                    raise
            response = core.create_namespaced_service_account_token(
                service_account,
                namespace,
                k8s.AuthenticationV1TokenRequest(
                    spec=k8s.V1TokenRequestSpec(
                        audiences=audiences or [], expiration_seconds=expiration_seconds
                    )
                ),
            )
            if response.status is None or not response.status.token:
                raise EnvtestError(
                    f"envtest: TokenRequest for {namespace}/{service_account} gave no token"
                )
            return str(response.status.token)

    def kubeconfig_for(
        self, service_account: str, namespace: str, path: Path | None = None
    ) -> Path:
        """Write a kubeconfig that authenticates as ``namespace/service_account``."""
        if path is None:
            assert self.workdir is not None, "start() the server first"
            path = self.workdir / f"{namespace}.{service_account}.kubeconfig"
        token = self.token_for(service_account, namespace)
        return self.write_kubeconfig(
            path, token, f"system:serviceaccount:{namespace}:{service_account}", namespace
        )
