"""Self-signed certificates for the stack's TLS frontend and the tests' TLS servers (openssl)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed(key: Path, crt: Path, subject: str, days: int, san: str | None = None) -> Path:
    """Write a new RSA key and a self-signed certificate for it; return the certificate's path.

    Args:
        key: where the private key goes.
        crt: where the certificate (PEM) goes.
        subject: e.g. `/CN=localhost`.
        days: validity.
        san: a subjectAltName value, e.g. `DNS:localhost,IP:127.0.0.1`.
    """
    extra = ["-addext", f"subjectAltName={san}"] if san else []
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
         "-subj", subject, *extra, "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return crt


def combined_pem(key: Path, crt: Path, pem: Path) -> Path:
    """HAProxy's `crt` file: certificate then key in one PEM (mode 600); the key file is removed."""
    pem.write_bytes(crt.read_bytes() + key.read_bytes())
    pem.chmod(0o600)
    key.unlink()
    return pem
