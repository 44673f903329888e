"""The node's certificates: a CA, serving and client certs, the service-account key pair.

A serving cert each for the API server and the kubelet, a client cert per component identity.

Each component gets the identity Kubernetes' bootstrap RBAC already knows
(``system:kube-controller-manager``, ``system:kube-scheduler``, ``system:kube-proxy``,
``system:node:<node>`` in ``system:nodes``), so nothing runs as cluster-admin but the admin
kubeconfig itself. Files are written once and reused while the CA lives.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from souk_devstack.cluster.layout import (
    CLUSTER_DOMAIN,
    KUBERNETES_SERVICE_IP,
    NODE_IP,
    NODE_NAME,
)

_VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate's subject: user name (CN) and groups (O)."""

    file: str
    user: str
    groups: tuple[str, ...] = ()


CLIENTS = (
    ClientIdentity("admin", "souk-admin", ("system:masters",)),
    ClientIdentity("apiserver-kubelet-client", "kube-apiserver", ("system:masters",)),
    ClientIdentity("controller-manager", "system:kube-controller-manager"),
    ClientIdentity("scheduler", "system:kube-scheduler"),
    ClientIdentity("kubelet", f"system:node:{NODE_NAME}", ("system:nodes",)),
    ClientIdentity("kube-proxy", "system:kube-proxy"),
    ClientIdentity("agent", "souk-node-agent"),
)


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    path.chmod(0o600 if private else 0o644)


class NodePki:
    """Reads or creates the node's certificates under one folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        """Return ``<dir>/<name>`` (e.g. ``ca.crt``, ``admin.key``)."""
        return self.directory / name

    def client_context(self, identity: str) -> ssl.SSLContext:
        """Return a TLS context that trusts the CA and presents ``identity``'s certificate."""
        context = ssl.create_default_context(cafile=str(self.path("ca.crt")))
        context.load_cert_chain(self.path(f"{identity}.crt"), self.path(f"{identity}.key"))
        return context

    def ensure(self) -> None:
        """Create every file that is missing (all of them when the CA is new)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        if not self.path("ca.crt").is_file() or not self.path("ca.key").is_file():
            for stale in self.directory.iterdir():
                stale.unlink()
            self._write_ca()
        ca_key = serialization.load_pem_private_key(self.path("ca.key").read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(self.path("ca.crt").read_bytes())
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        if not self.path("apiserver.crt").is_file():
            sans = [
                x509.DNSName("localhost"),
                x509.DNSName("kubernetes"),
                x509.DNSName("kubernetes.default"),
                x509.DNSName("kubernetes.default.svc"),
                x509.DNSName(f"kubernetes.default.svc.{CLUSTER_DOMAIN}"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address(NODE_IP)),
                x509.IPAddress(ipaddress.ip_address(KUBERNETES_SERVICE_IP)),
            ]
            self._issue(ca_cert, ca_key, "apiserver", "kube-apiserver", (), sans, server=True)
        if not self.path("kubelet-serving.crt").is_file():
            sans = [x509.DNSName(NODE_NAME), x509.IPAddress(ipaddress.ip_address(NODE_IP))]
            self._issue(ca_cert, ca_key, "kubelet-serving", NODE_NAME, (), sans, server=True)
        for client in CLIENTS:
            if not self.path(f"{client.file}.crt").is_file():
                self._issue(ca_cert, ca_key, client.file, client.user, client.groups, [])
        if not self.path("sa.key").is_file():
            sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _write(self.path("sa.key"), _pem_key(sa_key), private=True)
            public = sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            _write(self.path("sa.pub"), public)

    def _write_ca(self) -> None:
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "souk-node-ca")])
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256())
        )
        _write(self.path("ca.key"), _pem_key(key), private=True)
        _write(self.path("ca.crt"), cert.public_bytes(serialization.Encoding.PEM))

    def _issue(
        self,
        ca_cert: x509.Certificate,
        ca_key: ec.EllipticCurvePrivateKey,
        file: str,
        common_name: str,
        groups: tuple[str, ...],
        sans: list[x509.GeneralName],
        server: bool = False,
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        _write(self.path(f"{file}.key"), _pem_key(key), private=True)
        _write(self.path(f"{file}.crt"), cert.public_bytes(serialization.Encoding.PEM))
