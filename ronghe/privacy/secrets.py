"""Find secrets committed to the repository: keys, tokens, passwords in URLs and config.

Connections and keys come from the environment or Airflow connections only;
committed files may hold placeholders (`change-me`, `${VAR}`, `env_var(...)`)
and nothing else. High-confidence token shapes are searched in every file;
`password: value` style assignments only in configuration files, where a
literal value is a real leak (test code builds throwaway credentials on purpose).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private key",
        re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY"),
    ),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    (
        "JSON web token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ),
)
CREDENTIAL_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:(?P<secret>[^\s@/'\"]+)@")
ASSIGNMENT = re.compile(
    r"(?i)(?:^|[\s\"',])[\w.-]*(?:password|passwd|secret|token|api_?key|private_?key|fernet_?key)[\w.-]*"
    r"\s*[:=]\s*['\"]?(?P<secret>[^'\"\s#,}]+)"
)
ENV_ASSIGNMENT = re.compile(
    r"^\s*(?:export\s+)?[A-Z0-9_]*(?:KEY|SECRET|TOKEN|PASSWORD|PASSWD)[A-Z0-9_]*\s*=\s*"
    r"['\"]?(?P<secret>[^'\"\s#]+)"
)
CONFIG_SUFFIXES = frozenset({".yml", ".yaml", ".toml", ".ini", ".cfg", ".env", ".json", ".conf"})
PLACEHOLDER = re.compile(
    r"(?i:change-?me|none|null|true|false|example|placeholder|redacted|x{3,}|\*{3,}|\.{3}|"
    r"user|pass(?:word)?|secret|token)$"
    r"|^[$<{/.%]"  # ${VAR}, <token>, {{ env_var(...) }}, f-string fields, paths, %(x)s
    r"|^[A-Z][A-Z0-9_]*$"  # an upper-case name standing for the value (TOKEN)
    r"|^[A-Za-z_][\w.]*\("  # a call that reads the value: env_var(...), os.environ.get(...)
)
TEST_DIRECTORIES = frozenset({"tests"})
"""Test code builds throwaway credentials for its own servers; only token shapes are searched."""
MAX_FILE_BYTES = 2_000_000


@dataclass(frozen=True)
class SecretFinding:
    path: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def repository_files(root: Path) -> list[Path]:
    """Files git tracks or would add (not ignored), relative to `root`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    return [Path(name) for name in listed.split("\0") if name and (root / name).is_file()]


def scan_text(path: str, text: str) -> list[SecretFinding]:
    """Secrets in one file's text."""
    findings = []
    is_test = Path(path).parts[0] in TEST_DIRECTORIES
    is_config = Path(path).suffix in CONFIG_SUFFIXES or Path(path).name.startswith(".env")
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in TOKEN_PATTERNS:
            if pattern.search(line):
                findings.append(SecretFinding(path, number, kind))
        if is_test:
            continue
        for match in CREDENTIAL_URL.finditer(line):
            if not PLACEHOLDER.search(match["secret"]):
                findings.append(SecretFinding(path, number, "password in a URL"))
        if Path(path).name.startswith(".env") or Path(path).suffix == ".env":
            match = ENV_ASSIGNMENT.match(line)
            if match and not PLACEHOLDER.search(match["secret"]):
                findings.append(SecretFinding(path, number, "literal secret in an env file"))
        if is_config:
            for match in ASSIGNMENT.finditer(line):
                if not PLACEHOLDER.search(match["secret"]):
                    findings.append(SecretFinding(path, number, "literal secret in configuration"))
    return findings


def scan_repository(root: Path) -> list[SecretFinding]:
    """Every secret-looking value in the repository's files (binary and huge files skipped)."""
    findings = []
    for relative in repository_files(root):
        path = root / relative
        if path.stat().st_size > MAX_FILE_BYTES:
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        findings += scan_text(str(relative), data.decode("utf-8", errors="replace"))
    return findings


def committed_env_files(root: Path) -> list[str]:
    """`.env` files in the repository (only `.env.example` may be committed)."""
    return [
        str(relative)
        for relative in repository_files(root)
        if relative.name.startswith(".env") and relative.name != ".env.example"
    ]
